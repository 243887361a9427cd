/* nestprobe.exe: the portable build's launcher (tools/build_portable.py).
 *
 * Runs  <this exe's folder>\python\python.exe -I -B -m nestprobe <the arguments as typed>
 * and exits with its exit code, so `nestprobe.exe check wsl2 --ready` keeps the contract's
 * codes (README "The contract"). The arguments are passed on as the exact text of this
 * process's command line after its own name: no re-quoting, whatever cmd or PowerShell did.
 * The child inherits the console and the standard handles. Ctrl-C reaches both processes;
 * this one waits for the child (whose Python exits 130) instead of dying first.
 *
 * Built with mingw-w64: x86_64-w64-mingw32-gcc -municode -O2 -s -static launcher.c
 */
#define WIN32_LEAN_AND_MEAN 1
#define UNICODE 1
#include <windows.h>
#include <wchar.h>

#define EXIT_INTERNAL 7 /* the contract's "internal error" */

static void say(const wchar_t *what)
{
    DWORD written;
    HANDLE err = GetStdHandle(STD_ERROR_HANDLE);
    wchar_t line[1024];
    int n = _snwprintf(line, 1023, L"nestprobe: %ls (error %lu)\r\n", what, GetLastError());
    if (n < 0)
        n = 1023;
    line[n] = 0;
    char narrow[2048];
    int bytes = WideCharToMultiByte(CP_ACP, 0, line, -1, narrow, sizeof narrow, NULL, NULL);
    if (err != INVALID_HANDLE_VALUE && err != NULL && bytes > 1)
        WriteFile(err, narrow, (DWORD)(bytes - 1), &written, NULL);
}

/* The command line after the program's own name, as CommandLineToArgvW splits it: a quoted
 * name ends at the next quote, an unquoted one at the first space or tab. */
static const wchar_t *arguments(const wchar_t *line)
{
    if (*line == L'"') {
        line++;
        while (*line && *line != L'"')
            line++;
        if (*line == L'"')
            line++;
    } else {
        while (*line && *line != L' ' && *line != L'\t')
            line++;
    }
    while (*line == L' ' || *line == L'\t')
        line++;
    return line;
}

int wmain(void)
{
    wchar_t self[32768];
    DWORD n = GetModuleFileNameW(NULL, self, 32768);
    if (n == 0 || n >= 32768) {
        say(L"cannot find its own path");
        return EXIT_INTERNAL;
    }
    wchar_t *slash = wcsrchr(self, L'\\');
    if (slash == NULL) {
        say(L"its own path has no folder");
        return EXIT_INTERNAL;
    }
    *slash = 0;

    static wchar_t python[32768], command[32768 + 64];
    if (_snwprintf(python, 32767, L"%ls\\python\\python.exe", self) < 0) {
        say(L"the path of python.exe is too long");
        return EXIT_INTERNAL;
    }
    python[32767] = 0;
    if (GetFileAttributesW(python) == INVALID_FILE_ATTRIBUTES) {
        say(L"python\\python.exe is missing beside nestprobe.exe: unzip the whole folder");
        return EXIT_INTERNAL;
    }
    const wchar_t *args = arguments(GetCommandLineW());
    /* -I: isolated (no PYTHON* variables, no user site, no current directory on sys.path),
     * so a Python installed on the machine cannot change what runs. -B: never write
     * __pycache__ (the bytecode ships compiled; an elevated run in Program Files would
     * otherwise leave files the uninstaller does not know). */
    int len = _snwprintf(command, 32767, L"\"%ls\" -I -B -m nestprobe%ls%ls", python,
                         *args ? L" " : L"", args);
    if (len < 0) {
        SetLastError(ERROR_FILENAME_EXCED_RANGE);
        say(L"the command line is too long");
        return EXIT_INTERNAL;
    }
    command[32767] = 0;

    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    ZeroMemory(&si, sizeof si);
    si.cb = sizeof si;
    ZeroMemory(&pi, sizeof pi);
    SetConsoleCtrlHandler(NULL, TRUE); /* Ctrl-C: let the child answer it, then report */
    if (!CreateProcessW(python, command, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi)) {
        say(L"cannot start python\\python.exe");
        return EXIT_INTERNAL;
    }
    CloseHandle(pi.hThread);
    WaitForSingleObject(pi.hProcess, INFINITE);
    DWORD code = EXIT_INTERNAL;
    if (!GetExitCodeProcess(pi.hProcess, &code))
        code = EXIT_INTERNAL;
    CloseHandle(pi.hProcess);
    return (int)code;
}
