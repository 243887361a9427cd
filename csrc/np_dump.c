/* The dump record writer both parts of nestprobe-dump share (tool_nestprobe_dump.c and
 * tool_winfacts.c): docs/dump-format.md, version 1, as written by the C tool. Only the
 * standalone tool links it; the extension has no cdef for it (csrc/build_ffi.py). */
#include "np_dump.h"

#include <string.h>

void np_put_json(FILE *f, const unsigned char *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        switch (c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\t': fputs("\\t", f); break;
        case '\r': fputs("\\r", f); break;
        default:
            if (c < 0x20 || c >= 0x80)
                fprintf(f, "\\u%04x", c);
            else
                fputc(c, f);
        }
    }
    fputc('"', f);
}

void np_put_word(FILE *f, const char *s)
{
    int bare = s[0] != '\0' && s[0] != '"';
    for (const char *c = s; bare && *c; c++)
        bare = (unsigned char)*c > 0x20 && (unsigned char)*c < 0x7f;
    if (bare)
        fputs(s, f);
    else
        np_put_json(f, (const unsigned char *)s, strlen(s));
}

void np_put_file_record(FILE *f, const char *path, const char *state, const unsigned char *text,
                        size_t n)
{
    fputs("file ", f);
    np_put_word(f, path);
    fputc(' ', f);
    fputs(state, f);
    if (text != NULL) {
        fputc(' ', f);
        np_put_json(f, text, n);
    }
    fputc('\n', f);
}
