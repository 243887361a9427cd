<#
    Nestprobe: nestprobe's --json as PowerShell objects.

    Get-NestprobeReport [-From FILE] [-NoTiming]     -> one [Nestprobe.Report]
    Test-NestprobeScenario -Scenario S [-Ready] [-From FILE]
                                                     -> one [Nestprobe.Check]

    Both run nestprobe.exe once (the MSI's on PATH, the portable zip's via -Nestprobe,
    or $env:NESTPROBE) and leave its exit code in $LASTEXITCODE, with the meanings of
    README "The contract": 0 supported (with -Ready: ready now), 1 blocked, 2 usage,
    3 unsupported, 4 evaluation-only, 5 unknown, 6 bad input, 7 internal error,
    8 output failed, 9 ready after steps in this OS (-Ready), 10 needs another layer or a
    person to confirm (-Ready), 130 interrupted. Check objects carry it as ExitCode with
    its Meaning. A report that cannot be read (exit 2, 6, 7, 8) is a terminating error.

    The JSON fields this module reads (tests/test_contrib_windows.py checks each one):
    json: schema_version int
    json: nestprobe_version str
    json: answer str
    json: environment.os str
    json: hypervisor.vendor str?
    json: nesting.level int?
    json: nesting.at_least int
    json: verdicts dict
    json: verdicts.*.status str
    json: verdicts.*.rule str
    json: verdicts.*.remediation list
    json: verdicts.*.remediation[].id str
    json: verdicts.*.remediation[].layer str
    json: verdicts.*.remediation[].where str
    json: verdicts.*.remediation[].steps list
    json: verdicts.*.readiness.state str
    json: verdicts.*.readiness.elevated bool
    json: verdicts.*.readiness.restart bool
    json: verdicts.*.readiness.steps list
    json: verdicts.*.readiness.pending list
    json: verdicts.*.readiness.steps[].kind str
    json: verdicts.*.readiness.steps[].id str
    json: verdicts.*.readiness.steps[].conditions list
    json: verdicts.*.readiness.steps[].where str
    json: verdicts.*.readiness.steps[].commands list
    json: verdicts.*.readiness.steps[].elevated bool
    json: verdicts.*.readiness.steps[].restart bool
    json: verdicts.*.readiness.steps[].fix str?
    json: verdicts.*.readiness.pending[].kind str
    json: verdicts.*.readiness.pending[].id str
    json: verdicts.*.readiness.pending[].state str
    json: verdicts.*.readiness.pending[].layer str
    json: verdicts.*.readiness.pending[].confirm str?
#>

Set-StrictMode -Version 3

$script:ExitMeaning = @{
    0 = 'supported (with -Ready: ready now)'; 1 = 'blocked'; 2 = 'usage error'
    3 = 'unsupported (may work)'; 4 = 'evaluation-only'; 5 = 'unknown'; 6 = 'bad input'
    7 = 'internal error'; 8 = 'output failed'; 9 = 'ready after steps in this OS'
    10 = 'needs another layer or a person to confirm'; 130 = 'interrupted'
}
$script:Scenarios = @('hyperv', 'wsl2', 'hyperv-containers', 'azure-local', 'third-party')

function Resolve-NestprobePath([string]$Nestprobe) {
    if ($Nestprobe) { return $Nestprobe }
    if ($env:NESTPROBE) { return $env:NESTPROBE }
    $found = Get-Command nestprobe.exe -ErrorAction SilentlyContinue
    if ($null -ne $found) { return $found.Source }
    $installed = Join-Path $env:ProgramFiles 'nestprobe\nestprobe.exe'
    if (Test-Path -LiteralPath $installed) { return $installed }
    throw 'nestprobe.exe not found: install the MSI, or pass -Nestprobe PATH'
}

function Invoke-NestprobeJson([string]$Nestprobe, [string[]]$Arguments) {
    $exe = Resolve-NestprobePath $Nestprobe
    $text = & $exe @Arguments 2>&1 | Out-String
    $code = $LASTEXITCODE
    if ($code -in 2, 6, 7, 8) {
        throw "nestprobe exited $code ($($script:ExitMeaning[$code])): $($text.Trim())"
    }
    $report = $text | ConvertFrom-Json
    $global:LASTEXITCODE = $code
    return $report
}

function ConvertTo-NestprobeVerdict([string]$Scenario, $verdict) {
    $ready = $verdict.readiness
    $steps = foreach ($step in $ready.steps) {
        [pscustomobject]@{
            PSTypeName = 'Nestprobe.Step'
            Kind       = [string]$step.kind
            Id         = [string]$step.id
            Conditions = [string[]]@($step.conditions)
            Where      = [string]$step.where
            Commands   = [string[]]@($step.commands)
            Elevated   = [bool]$step.elevated
            Restart    = [bool]$step.restart
            Fix        = $step.fix
        }
    }
    $pending = foreach ($item in $ready.pending) {
        [pscustomobject]@{
            PSTypeName = 'Nestprobe.Pending'
            Kind       = [string]$item.kind
            Id         = [string]$item.id
            State      = [string]$item.state
            Layer      = [string]$item.layer
            Confirm    = $item.confirm
        }
    }
    $fixes = foreach ($fix in $verdict.remediation) {
        [pscustomobject]@{
            PSTypeName = 'Nestprobe.Remediation'
            Id         = [string]$fix.id
            Layer      = [string]$fix.layer
            Where      = [string]$fix.where
            Steps      = [string[]]@($fix.steps)
        }
    }
    [pscustomobject]@{
        PSTypeName  = 'Nestprobe.Verdict'
        Scenario    = $Scenario
        Status      = [string]$verdict.status
        Readiness   = [string]$ready.state
        IsReady     = ([string]$ready.state -eq 'ready')
        Elevated    = [bool]$ready.elevated
        Restart     = [bool]$ready.restart
        Steps       = @($steps)
        Pending     = @($pending)
        Remediation = @($fixes)
        Rule        = [string]$verdict.rule
    }
}

function ConvertTo-NestprobeReport($report) {
    $verdicts = foreach ($name in $script:Scenarios) {
        ConvertTo-NestprobeVerdict $name $report.verdicts.$name
    }
    [pscustomobject]@{
        PSTypeName       = 'Nestprobe.Report'
        SchemaVersion    = [int]$report.schema_version
        Version          = [string]$report.nestprobe_version
        Answer           = [string]$report.answer
        Os               = [string]$report.environment.os
        HypervisorVendor = $report.hypervisor.vendor
        NestingLevel     = $report.nesting.level
        NestingAtLeast   = [int]$report.nesting.at_least
        Verdicts         = @($verdicts)
        Json             = $report
    }
}

function Get-NestprobeReport {
    <#
    .SYNOPSIS
        This machine's nestprobe report (or a dump's, with -From) as a Nestprobe.Report.
    .EXAMPLE
        (Get-NestprobeReport).Verdicts | Where-Object Readiness -ne 'ready' | Format-Table Scenario, Status, Readiness, Restart
    #>
    [CmdletBinding()]
    param([string]$From, [switch]$NoTiming, [string]$Nestprobe)
    $arguments = @('--json')
    if ($From) { $arguments += @('--from', $From) }
    if ($NoTiming) { $arguments += '--no-timing' }
    $report = Invoke-NestprobeJson $Nestprobe $arguments
    ConvertTo-NestprobeReport $report
}

function Test-NestprobeScenario {
    <#
    .SYNOPSIS
        One scenario's verdict as a Nestprobe.Check (ExitCode, Meaning, Status, Readiness).
    .EXAMPLE
        if ((Test-NestprobeScenario wsl2 -Ready).IsReady) { wsl --install -d Ubuntu }
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)]
        [ValidateSet('hyperv', 'wsl2', 'hyperv-containers', 'azure-local', 'third-party')]
        [string]$Scenario,
        [switch]$Ready,
        [string]$From,
        [string]$Nestprobe
    )
    $arguments = @('check', $Scenario, '--json')
    if ($Ready) { $arguments += '--ready' }
    if ($From) { $arguments += @('--from', $From) }
    $report = Invoke-NestprobeJson $Nestprobe $arguments
    $code = $global:LASTEXITCODE
    $result = ConvertTo-NestprobeVerdict $Scenario $report.verdicts.$Scenario
    [pscustomobject]@{
        PSTypeName = 'Nestprobe.Check'
        Scenario   = $Scenario
        ExitCode   = [int]$code
        Meaning    = $script:ExitMeaning[[int]$code]
        Status     = $result.Status
        Readiness  = $result.Readiness
        IsReady    = ($code -eq 0 -and [bool]$Ready)
        Verdict    = $result
    }
}

Export-ModuleMember -Function 'Get-NestprobeReport', 'Test-NestprobeScenario'
