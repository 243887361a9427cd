@echo off
rem An installer's prerequisite step for a WSL2 or Docker-Desktop-style product, in cmd.
rem
rem   wsl2-prereq.cmd [SCENARIO]     (default wsl2; hyperv for a Hyper-V backend)
rem
rem Asks `nestprobe check SCENARIO --ready` (README "The contract") and acts on its code:
rem   0   ready now                     -> exit 0: go on installing
rem   9   ready after steps in Windows  -> enables the optional features (elevated), then
rem                                        exit 3010: ERROR_SUCCESS_REBOOT_REQUIRED, which
rem                                        installers and deployment tools read as "restart"
rem   10  needs another layer/a person  -> prints what to confirm, exit 1
rem   1 3 4 5 (blocked, unsupported...) -> prints the verdict, exit 1
rem   anything else (2, 6, 7, 8, none)  -> nestprobe failed or is missing, exit 2
rem Set NESTPROBE to the exe's path if it is not on PATH (the MSI puts it there), and
rem DRYRUN=1 to print the commands of the 9 branch instead of running them.
setlocal EnableExtensions
set "SCENARIO=%~1"
if "%SCENARIO%"=="" set "SCENARIO=wsl2"
if "%NESTPROBE%"=="" set "NESTPROBE=nestprobe"
set "RUN="
if "%DRYRUN%"=="1" set "RUN=echo would run:"

"%NESTPROBE%" check %SCENARIO% --ready -q
set "CODE=%ERRORLEVEL%"

if "%CODE%"=="0" (
    echo %SCENARIO%: ready
    exit /b 0
)
if "%CODE%"=="9" goto steps
if "%CODE%"=="10" goto confirm
for %%c in (1 3 4 5) do if "%CODE%"=="%%c" goto verdict
echo %SCENARIO%: nestprobe failed or is missing (exit %CODE%)
exit /b 2

:steps
echo %SCENARIO%: ready after steps in this Windows; enabling the features
rem (ERRORLEVEL after each call, not `call ... || exit`: wine's cmd runs the || branch
rem after any call; Windows' does not.)
if /i "%SCENARIO%"=="wsl2" goto wsl2features
call :feature Microsoft-Hyper-V
if errorlevel 1 exit /b 1
goto launch
:wsl2features
call :feature Microsoft-Windows-Subsystem-Linux
if errorlevel 1 exit /b 1
call :feature VirtualMachinePlatform
if errorlevel 1 exit /b 1
:launch
rem (call ) sets ERRORLEVEL to 0: with DRYRUN=1 the echo leaves it as it was.
(call )
%RUN% bcdedit.exe /set {current} hypervisorlaunchtype auto
if errorlevel 1 (
    echo %SCENARIO%: bcdedit failed: run this step as Administrator
    exit /b 1
)
echo %SCENARIO%: restart required
exit /b 3010

:feature
rem dism: 0 done, 3010 done and a restart is due; anything else (740: not elevated) fails.
(call )
%RUN% dism.exe /online /enable-feature /featurename:%1 /all /norestart
if "%ERRORLEVEL%"=="0" exit /b 0
if "%ERRORLEVEL%"=="3010" exit /b 0
echo %SCENARIO%: enabling %1 failed (dism exit %ERRORLEVEL%): run this step as Administrator
exit /b 1

:confirm
echo %SCENARIO%: supported only if someone confirms this:
"%NESTPROBE%" check %SCENARIO% --ready
exit /b 1

:verdict
"%NESTPROBE%" check %SCENARIO%
exit /b 1
