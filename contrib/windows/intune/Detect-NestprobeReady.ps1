<#
.SYNOPSIS
    Intune Remediations, detection script: is this machine ready for a scenario now?

.DESCRIPTION
    Runs `nestprobe check <scenario> --ready --json` (the MSI or the portable zip:
    README "Windows") and prints one line for the portal's "Pre-remediation detection
    output" column.

    Exit 0: ready now (no issue). Exit 1: not ready; the remediation script
    (Remediate-NestprobeReady.ps1) then runs and performs what it may in this Windows.
    A machine that needs another layer (the host, the cloud, the firmware) or a person,
    or whose scenario is blocked, also exits 1: its line says why, and the remediation
    reports that it cannot act.

    Upload with "Run this script using the logged-on credentials: No" and "Run script
    in 64-bit PowerShell: Yes". Edit $Scenario below (Intune passes no parameters).

    The JSON fields this script reads (tests/test_contrib_windows.py checks each one
    against real --json output, and that the code reads no other):
    json: verdicts.*.status str
    json: verdicts.*.readiness.state str
    json: verdicts.*.readiness.steps list
    json: verdicts.*.readiness.pending list
    json: verdicts.*.readiness.elevated bool
    json: verdicts.*.readiness.restart bool
    json: verdicts.*.readiness.steps[].id str
    json: verdicts.*.readiness.pending[].id str
    json: verdicts.*.readiness.pending[].layer str
#>
$Scenario = 'wsl2'  # hyperv, wsl2, hyperv-containers, azure-local, third-party

$ErrorActionPreference = 'Stop'
$exe = Get-Command nestprobe.exe -ErrorAction SilentlyContinue
if ($null -eq $exe) {
    $exe = Join-Path $env:ProgramFiles 'nestprobe\nestprobe.exe'
    if (-not (Test-Path -LiteralPath $exe)) {
        Write-Output "nestprobe not installed: no verdict for $Scenario"
        exit 1
    }
} else {
    $exe = $exe.Source
}

$text = & $exe check $Scenario --ready --json 2>&1 | Out-String
$code = $LASTEXITCODE
try {
    $report = $text | ConvertFrom-Json
} catch {
    Write-Output "nestprobe exited $code without a report: $($text.Trim())"
    exit 1
}
$verdict = $report.verdicts.$Scenario
$ready = $verdict.readiness

switch ($ready.state) {
    'ready' {
        Write-Output "${Scenario}: ready"
        exit 0
    }
    'after-steps' {
        $ids = @(foreach ($step in $ready.steps) { $step.id }) -join ', '
        $needs = @()
        if ($ready.elevated) { $needs += 'elevated' }
        if ($ready.restart) { $needs += 'restart' }
        Write-Output "${Scenario}: after steps in this Windows ($ids; $($needs -join ', '))"
        exit 1
    }
    'needs-confirmation' {
        $who = @(foreach ($item in $ready.pending) { "$($item.id) [$($item.layer)]" }) -join ', '
        Write-Output "${Scenario}: needs confirmation: $who"
        exit 1
    }
    default {
        Write-Output "${Scenario}: $($verdict.status) (nestprobe exit $code)"
        exit 1
    }
}
