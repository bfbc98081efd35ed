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
  Add-NetNatStaticMapping -NatName $natName -Protocol TCP -ExternalIPAddress '0.0.0.0' -ExternalPort 20101 -InternalIPAddress '10.61.0.11' -InternalPort 22 | Out-Null
  Add-NetNatStaticMapping -NatName $natName -Protocol TCP -ExternalIPAddress '0.0.0.0' -ExternalPort 20111 -InternalIPAddress '10.61.0.11' -InternalPort 8081 | Out-Null
  Add-NetNatStaticMapping -NatName $natName -Protocol TCP -ExternalIPAddress '0.0.0.0' -ExternalPort 20121 -InternalIPAddress '10.61.0.11' -InternalPort 8082 | Out-Null
  Add-NetNatStaticMapping -NatName $natName -Protocol TCP -ExternalIPAddress '0.0.0.0' -ExternalPort 20131 -InternalIPAddress '10.61.0.11' -InternalPort 8083 | Out-Null
  Add-NetNatStaticMapping -NatName $natName -Protocol TCP -ExternalIPAddress '0.0.0.0' -ExternalPort 20141 -InternalIPAddress '10.61.0.11' -InternalPort 8084 | Out-Null
  Add-NetNatStaticMapping -NatName $natName -Protocol TCP -ExternalIPAddress '0.0.0.0' -ExternalPort 20151 -InternalIPAddress '10.61.0.11' -InternalPort 8085 | Out-Null
  Add-NetNatStaticMapping -NatName $natName -Protocol TCP -ExternalIPAddress '0.0.0.0' -ExternalPort 20161 -InternalIPAddress '10.61.0.11' -InternalPort 8086 | Out-Null
  Add-NetNatStaticMapping -NatName $natName -Protocol TCP -ExternalIPAddress '0.0.0.0' -ExternalPort 20171 -InternalIPAddress '10.61.0.11' -InternalPort 8087 | Out-Null
  Add-NetNatStaticMapping -NatName $natName -Protocol TCP -ExternalIPAddress '0.0.0.0' -ExternalPort 20181 -InternalIPAddress '10.61.0.11' -InternalPort 8088 | Out-Null
  Add-NetNatStaticMapping -NatName $natName -Protocol TCP -ExternalIPAddress '0.0.0.0' -ExternalPort 20191 -InternalIPAddress '10.61.0.11' -InternalPort 8089 | Out-Null
  Add-NetNatStaticMapping -NatName $natName -Protocol TCP -ExternalIPAddress '0.0.0.0' -ExternalPort 20102 -InternalIPAddress '10.61.0.12' -InternalPort 22 | Out-Null
  Add-NetNatStaticMapping -NatName $natName -Protocol TCP -ExternalIPAddress '0.0.0.0' -ExternalPort 20112 -InternalIPAddress '10.61.0.12' -InternalPort 8081 | Out-Null
  Add-NetNatStaticMapping -NatName $natName -Protocol TCP -ExternalIPAddress '0.0.0.0' -ExternalPort 20122 -InternalIPAddress '10.61.0.12' -InternalPort 8082 | Out-Null
  Add-NetNatStaticMapping -NatName $natName -Protocol TCP -ExternalIPAddress '0.0.0.0' -ExternalPort 20132 -InternalIPAddress '10.61.0.12' -InternalPort 8083 | Out-Null
  Add-NetNatStaticMapping -NatName $natName -Protocol TCP -ExternalIPAddress '0.0.0.0' -ExternalPort 20142 -InternalIPAddress '10.61.0.12' -InternalPort 8084 | Out-Null
  Add-NetNatStaticMapping -NatName $natName -Protocol TCP -ExternalIPAddress '0.0.0.0' -ExternalPort 20152 -InternalIPAddress '10.61.0.12' -InternalPort 8085 | Out-Null
  Add-NetNatStaticMapping -NatName $natName -Protocol TCP -ExternalIPAddress '0.0.0.0' -ExternalPort 20162 -InternalIPAddress '10.61.0.12' -InternalPort 8086 | Out-Null
  Add-NetNatStaticMapping -NatName $natName -Protocol TCP -ExternalIPAddress '0.0.0.0' -ExternalPort 20172 -InternalIPAddress '10.61.0.12' -InternalPort 8087 | Out-Null
  Add-NetNatStaticMapping -NatName $natName -Protocol TCP -ExternalIPAddress '0.0.0.0' -ExternalPort 20182 -InternalIPAddress '10.61.0.12' -InternalPort 8088 | Out-Null
  Add-NetNatStaticMapping -NatName $natName -Protocol TCP -ExternalIPAddress '0.0.0.0' -ExternalPort 20192 -InternalIPAddress '10.61.0.12' -InternalPort 8089 | Out-Null
  [IO.Directory]::CreateDirectory((Split-Path -Parent $record)) | Out-Null
  Set-Content -LiteralPath $record -Value @('7ef940f122f9 0123456789abcdef0123456789abcdef', '20101', '20111', '20121', '20131', '20141', '20151', '20161', '20171', '20181', '20191', '20102', '20112', '20122', '20132', '20142', '20152', '20162', '20172', '20182', '20192')
} catch {
  [Console]::Error.WriteLine('labctl-error-category: ' + $_.CategoryInfo.Category)
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
  [Console]::Error.WriteLine('labctl-error-category: ' + $_.CategoryInfo.Category)
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
