<#
.SYNOPSIS
    Configuration Manager compliance setting, discovery script: this machine's readiness
    for one scenario, as one value.

.DESCRIPTION
    Use in a Configuration Item: Setting type "Script", data type "String", this file as
    the discovery script (Windows PowerShell), and a compliance rule "Value" that
    "Equals" ready. Optionally add Remediate-NestprobeReady.ps1 (contrib/windows/intune)
    as the remediation script, with "Run the specified remediation script when this
    setting is noncompliant".

    Writes exactly one line (ConfigMgr compares the script's output):
      ready | after-steps | needs-confirmation | not-supported:<status> | error:<exit code>
    and exits 0 whatever the answer (a non-zero exit is a script failure to ConfigMgr,
    not non-compliance).

    The JSON fields this script reads (checked by tests/test_contrib_windows.py):
    json: verdicts.*.status str
    json: verdicts.*.readiness.state str
#>
$Scenario = 'wsl2'  # hyperv, wsl2, hyperv-containers, azure-local, third-party

$exe = Get-Command nestprobe.exe -ErrorAction SilentlyContinue
if ($null -eq $exe) {
    $exe = Join-Path $env:ProgramFiles 'nestprobe\nestprobe.exe'
} else {
    $exe = $exe.Source
}
try {
    $text = & $exe check $Scenario --ready --json 2>$null | Out-String
    $code = $LASTEXITCODE
    $report = $text | ConvertFrom-Json
} catch {
    Write-Output 'error:not-run'
    exit 0
}
if ($null -eq $report) {
    Write-Output "error:$code"
    exit 0
}
$verdict = $report.verdicts.$Scenario
if ($verdict.readiness.state -eq 'not-supported') {
    Write-Output "not-supported:$($verdict.status)"
} else {
    Write-Output $verdict.readiness.state
}
exit 0
