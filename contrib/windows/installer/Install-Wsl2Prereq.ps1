<#
.SYNOPSIS
    An installer's prerequisite step for a WSL2 or Docker-Desktop-style product, in
    PowerShell (the same decisions as wsl2-prereq.cmd).

.DESCRIPTION
    Asks `nestprobe check <Scenario> --ready --json` and acts on its exit code ($LASTEXITCODE,
    README "The contract"):
      0   ready now                    -> exit 0: go on installing
      9   ready after steps in Windows -> performs readiness.steps it knows (elevated),
                                          then exit 3010 (restart required) or 0
      10  needs another layer/a person -> prints readiness.pending, exit 1
      1 3 4 5                          -> prints the verdict's status, exit 1
      other                            -> nestprobe failed or is missing, exit 2
    -DryRun prints the actions instead of running them.

    The JSON fields this script reads (checked by tests/test_contrib_windows.py):
    json: verdicts.*.status str
    json: verdicts.*.readiness.steps list
    json: verdicts.*.readiness.pending list
    json: verdicts.*.readiness.steps[].id str
    json: verdicts.*.readiness.steps[].restart bool
    json: verdicts.*.readiness.pending[].id str
    json: verdicts.*.readiness.pending[].layer str
    json: verdicts.*.readiness.pending[].confirm str?
#>
param(
    [ValidateSet('hyperv', 'wsl2', 'hyperv-containers', 'azure-local', 'third-party')]
    [string]$Scenario = 'wsl2',
    [string]$Nestprobe = 'nestprobe',
    [switch]$DryRun
)

$features = @{
    'windows-wsl-install'       = @('Microsoft-Windows-Subsystem-Linux', 'VirtualMachinePlatform')
    'wsl-installed'             = @('Microsoft-Windows-Subsystem-Linux', 'VirtualMachinePlatform')
    'windows-wsl-manual'        = @('Microsoft-Windows-Subsystem-Linux', 'VirtualMachinePlatform')
    'windows-vm-platform'       = @('VirtualMachinePlatform')
    'vm-platform'               = @('VirtualMachinePlatform')
    'windows-enable-hyperv'     = @('Microsoft-Hyper-V')
    'hyperv-role'               = @('Microsoft-Hyper-V')
    'windows-enable-containers' = @('Containers')
}
$launch = @('windows-hypervisor-launch', 'hypervisor-launches', 'windows-vm-platform')

$text = & $Nestprobe check $Scenario --ready --json 2>$null | Out-String
$code = $LASTEXITCODE
if ($code -notin 0, 1, 3, 4, 5, 9, 10) {
    Write-Output "${Scenario}: nestprobe failed or is missing (exit $code)"
    exit 2
}
$report = $text | ConvertFrom-Json
$verdict = $report.verdicts.$Scenario
$ready = $verdict.readiness

if ($code -eq 0) {
    Write-Output "${Scenario}: ready"
    exit 0
}
if ($code -eq 10) {
    Write-Output "${Scenario}: supported only if someone confirms this:"
    foreach ($item in $ready.pending) {
        Write-Output "  [$($item.layer)] $($item.id): $($item.confirm)"
    }
    exit 1
}
if ($code -ne 9) {
    Write-Output "${Scenario}: $($verdict.status) (nestprobe check $Scenario says what to change, and where)"
    exit 1
}

$restart = $false
foreach ($step in $ready.steps) {
    if ($features.ContainsKey($step.id)) {
        foreach ($name in $features[$step.id]) {
            if ($DryRun) {
                Write-Output "would run: Enable-WindowsOptionalFeature -Online -FeatureName $name -All -NoRestart"
            } else {
                $result = Enable-WindowsOptionalFeature -Online -FeatureName $name -All -NoRestart
                if ($result.RestartNeeded) { $restart = $true }
            }
        }
    } elseif ($launch -notcontains $step.id) {
        Write-Output "${Scenario}: step $($step.id) is not one this script takes: do it by hand"
        exit 1
    }
    if ($launch -contains $step.id) {
        if ($DryRun) {
            Write-Output "would run: bcdedit /set '{current}' hypervisorlaunchtype auto"
        } else {
            & bcdedit.exe /set '{current}' hypervisorlaunchtype auto | Out-Null
            if ($LASTEXITCODE -ne 0) { throw "bcdedit exited $LASTEXITCODE" }
        }
    }
    if ($step.restart) { $restart = $true }
}
if ($restart) {
    Write-Output "${Scenario}: restart required"
    exit 3010
}
Write-Output "${Scenario}: done"
exit 0
