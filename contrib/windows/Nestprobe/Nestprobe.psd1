@{
    RootModule        = 'Nestprobe.psm1'
    ModuleVersion     = '0.1.0'
    GUID              = '3c1d9e52-6a0b-4f7e-9d21-5b8e7c4a1f03'
    Author            = 'nestprobe'
    Description       = 'nestprobe --json as objects: Get-NestprobeReport, Test-NestprobeScenario'
    PowerShellVersion = '5.1'
    FunctionsToExport = @('Get-NestprobeReport', 'Test-NestprobeScenario')
    CmdletsToExport   = @()
    VariablesToExport = @()
    AliasesToExport   = @()
}
