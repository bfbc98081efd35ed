# labctl publish cd26-team1-access
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
[Console]::OutputEncoding = [Text.Encoding]::UTF8
try {
  $natName = 'cd26-nat'
  $record = Join-Path 'C:\ProgramData\labctl\cd26' '.access-team1'
  if ($null -eq (Get-NetNat -Name $natName -ErrorAction SilentlyContinue)) {
    throw ('labctl: NetNat ' + $natName + ' is missing: the team''s nat network comes first')
  }
  if (Test-Path -LiteralPath $record) {
    foreach ($port in @(Get-Content -LiteralPath $record | Select-Object -Skip 1)) {
      Get-NetNatStaticMapping -NatName $natName -ErrorAction SilentlyContinue | Where-Object { $_.ExternalPort -eq [int]$port } | Remove-NetNatStaticMapping -Confirm:$false
    }
    Remove-Item -LiteralPath $record -Force
  }
  Add-NetNatStaticMapping -NatName $natName -Protocol TCP -ExternalIPAddress '0.0.0.0' -ExternalPort 20101 -InternalIPAddress '10.61.1.11' -InternalPort 22 | Out-Null
  Add-NetNatStaticMapping -NatName $natName -Protocol TCP -ExternalIPAddress '0.0.0.0' -ExternalPort 20111 -InternalIPAddress '10.61.1.11' -InternalPort 8081 | Out-Null
  Add-NetNatStaticMapping -NatName $natName -Protocol TCP -ExternalIPAddress '0.0.0.0' -ExternalPort 20102 -InternalIPAddress '10.61.1.12' -InternalPort 22 | Out-Null
  Add-NetNatStaticMapping -NatName $natName -Protocol TCP -ExternalIPAddress '0.0.0.0' -ExternalPort 20112 -InternalIPAddress '10.61.1.12' -InternalPort 8081 | Out-Null
  [IO.Directory]::CreateDirectory((Split-Path -Parent $record)) | Out-Null
  Set-Content -LiteralPath $record -Value @('f1360784d249 0123456789abcdef0123456789abcdef', '20101', '20111', '20102', '20112')
} catch {
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
# labctl unpublish cd26-team1-access
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
[Console]::OutputEncoding = [Text.Encoding]::UTF8
try {
  $natName = 'cd26-nat'
  $record = Join-Path 'C:\ProgramData\labctl\cd26' '.access-team1'
  if (Test-Path -LiteralPath $record) {
    foreach ($port in @(Get-Content -LiteralPath $record | Select-Object -Skip 1)) {
      Get-NetNatStaticMapping -NatName $natName -ErrorAction SilentlyContinue | Where-Object { $_.ExternalPort -eq [int]$port } | Remove-NetNatStaticMapping -Confirm:$false
    }
    Remove-Item -LiteralPath $record -Force
  }
} catch {
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
