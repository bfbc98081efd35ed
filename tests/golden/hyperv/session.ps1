# labctl session 0123456789abcdef0123456789abcdef
$ErrorActionPreference = 'Continue'
$ProgressPreference = 'SilentlyContinue'
[Console]::OutputEncoding = [Text.Encoding]::UTF8
$labctlEnd = 'labctl-end-0123456789abcdef0123456789abcdef'
$labctlFile = Join-Path ([IO.Path]::GetTempPath()) 'labctl-0123456789abcdef0123456789abcdef.ps1'
$labctlBom = New-Object Text.UTF8Encoding $true
while ($true) {
  $labctlLine = [Console]::In.ReadLine()
  if ($null -eq $labctlLine) {
    break
  }
  $labctlCode = 0
  try {
    $labctlText = [Text.Encoding]::Unicode.GetString([Convert]::FromBase64String($labctlLine))
    [IO.File]::WriteAllText($labctlFile, $labctlText, $labctlBom)
    $global:LASTEXITCODE = 0
    & $labctlFile | ForEach-Object { [Console]::Out.WriteLine([string]$_) }
    $labctlCode = $LASTEXITCODE
  } catch {
    [Console]::Error.WriteLine('labctl-error: ' + ($_.Exception.Message -replace '\s+', ' '))
    $labctlCode = 1
  }
  [Console]::Out.Write([Environment]::NewLine + $labctlEnd + ' ' + $labctlCode + [Environment]::NewLine)
  [Console]::Error.Write([Environment]::NewLine + $labctlEnd + [Environment]::NewLine)
  [Console]::Out.Flush()
  [Console]::Error.Flush()
}
Remove-Item -LiteralPath $labctlFile -Force -ErrorAction SilentlyContinue
