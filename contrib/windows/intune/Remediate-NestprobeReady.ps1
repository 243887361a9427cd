<#
.SYNOPSIS
    Intune Remediations, remediation script: perform the steps in this Windows that
    nestprobe lists for a scenario, and nothing else.

.DESCRIPTION
    Runs `nestprobe check <scenario> --ready --json` and, for each step of
    readiness.steps whose id is in $Actions below, runs that action. It never restarts
    the machine (use Intune's restart settings or ask the user: the line says so), never
    upgrades the edition or installs feature updates ($Never), and does nothing for what
    only another layer or a person can confirm (readiness.pending).

    Prints one line for the portal's "Post-remediation detection output" column.
    Exit 0: every step was performed (a restart may still be due: the line says so).
    Exit 1: something could not be done here; the line names it.

    Runs as SYSTEM (elevated), as Intune runs remediation scripts. Edit $Scenario to the
    detection script's. For WSL it enables the inbox optional features; the WSL kernel and
    a distribution come with the user's `wsl --install` or `wsl --update` after the restart,
    which this script does not run (as SYSTEM, before the restart, it cannot).

    The JSON fields this script reads (checked by tests/contrib/test_contrib_windows.py):
    json: verdicts.*.status str
    json: verdicts.*.readiness.state str
    json: verdicts.*.readiness.steps list
    json: verdicts.*.readiness.pending list
    json: verdicts.*.readiness.steps[].id str
    json: verdicts.*.readiness.steps[].kind str
    json: verdicts.*.readiness.steps[].restart bool
    json: verdicts.*.readiness.pending[].id str
    json: verdicts.*.readiness.pending[].layer str
#>
$Scenario = 'wsl2'  # hyperv, wsl2, hyperv-containers, azure-local, third-party

$ErrorActionPreference = 'Stop'

function Enable-Feature([string[]]$Names) {
    foreach ($name in $Names) {
        # -NoRestart: the restart is the administrator's decision, not this script's.
        Enable-WindowsOptionalFeature -Online -FeatureName $name -All -NoRestart | Out-Null
    }
}

function Set-HypervisorLaunch {
    & bcdedit.exe /set '{current}' hypervisorlaunchtype auto | Out-Null
    if ($LASTEXITCODE -ne 0) { throw "bcdedit exited $LASTEXITCODE" }
}

# Step ids (remediation ids of the verdict, or conditions of a settle step) -> what this
# script does for them. Each one is idempotent: a feature already enabled stays enabled.
$Actions = @{
    'windows-enable-hyperv'             = { Enable-Feature @('Microsoft-Hyper-V') }
    'hyperv-role'                       = { Enable-Feature @('Microsoft-Hyper-V') }
    'windows-install-hyperv-server'     = { Install-WindowsFeature -Name Hyper-V -IncludeManagementTools | Out-Null }
    'windows-hypervisor-launch'         = { Set-HypervisorLaunch }
    'hypervisor-launches'               = { Set-HypervisorLaunch }
    'windows-wsl-install'               = { Enable-Feature @('Microsoft-Windows-Subsystem-Linux', 'VirtualMachinePlatform') }
    'wsl-installed'                     = { Enable-Feature @('Microsoft-Windows-Subsystem-Linux', 'VirtualMachinePlatform') }
    'windows-wsl-manual'                = { Enable-Feature @('Microsoft-Windows-Subsystem-Linux', 'VirtualMachinePlatform') }
    'windows-vm-platform'               = { Enable-Feature @('VirtualMachinePlatform'); Set-HypervisorLaunch }
    'vm-platform'                       = { Enable-Feature @('VirtualMachinePlatform') }
    'windows-hypervisor-platform'       = { Enable-Feature @('HypervisorPlatform') }
    'windows-enable-containers'         = { Enable-Feature @('Containers') }
    'windows-install-containers-server' = { Install-WindowsFeature -Name Containers | Out-Null }
}
# Steps a script must not take on its own: a licence, a feature update, a reinstall or
# a Server upgrade, Linux's groups.
$Never = @('windows-upgrade-edition', 'windows-feature-update', 'windows-client-reinstall', 'windows-server-upgrade', 'kvm-access', 'kvm-module')

$exe = Get-Command nestprobe.exe -ErrorAction SilentlyContinue
if ($null -eq $exe) {
    $exe = Join-Path $env:ProgramFiles 'nestprobe\nestprobe.exe'
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

if ($ready.state -eq 'ready') {
    Write-Output "${Scenario}: ready, nothing to do"
    exit 0
}
if ($ready.state -eq 'not-supported') {
    Write-Output "${Scenario}: $($verdict.status): nothing this Windows can change (nestprobe check $Scenario shows where)"
    exit 1
}

$done = @()
$skipped = @()
$restart = $false
foreach ($step in $ready.steps) {
    if ($Actions.ContainsKey($step.id)) {
        try {
            & $Actions[$step.id]
            $done += $step.id
            if ($step.restart) { $restart = $true }
        } catch {
            $skipped += "$($step.id) (failed: $($_.Exception.Message))"
        }
    } elseif ($Never -contains $step.id) {
        $skipped += "$($step.id) (not done by a script)"
    } else {
        $skipped += "$($step.id) (unknown step: $($step.kind))"
    }
}
$pending = @(foreach ($item in $ready.pending) { "$($item.id) [$($item.layer)]" })

$line = "${Scenario}: done $($done -join ', ')"
if ($restart) { $line += '; restart required' }
if ($skipped.Count -gt 0) { $line += "; not done: $($skipped -join ', ')" }
if ($pending.Count -gt 0) { $line += "; to confirm elsewhere: $($pending -join ', ')" }
Write-Output $line
if ($skipped.Count -gt 0 -or $pending.Count -gt 0) { exit 1 }
exit 0
