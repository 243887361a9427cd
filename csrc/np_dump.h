/* Record writers shared by the parts of nestprobe-dump (np_dump.c; the tools', not the
 * extension's).
 * Output follows docs/dump-format.md, version 1, as written by the C tool. */
#ifndef NESTPROBE_NP_DUMP_H
#define NESTPROBE_NP_DUMP_H

#include <stddef.h>
#include <stdio.h>

/* A JSON string of bytes: \" \\ \n \t \r escaped, every other byte < 0x20 or >= 0x80 as
 * \u00XX of the byte value (the dump reader maps those back to bytes). */
void np_put_json(FILE *f, const unsigned char *s, size_t n);

/* A word: bare when it is printable ASCII without spaces and does not start with '"',
 * else a JSON string (the Python writer's rule, dumpfile._word). */
void np_put_word(FILE *f, const char *s);

/* `file PATH STATE` (text NULL) or `file PATH ok "TEXT"` with n bytes of text. */
void np_put_file_record(FILE *f, const char *path, const char *state, const unsigned char *text,
                        size_t n);

#if defined(_WIN32)
/* Every fact of np_winfacts.h as a file record (tool_winfacts.c). */
void np_put_windows_facts(FILE *f);
#endif

#endif
