# labctl inventory cd26
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
[Console]::OutputEncoding = [Text.Encoding]::UTF8
function Test-LabctlTag([string]$Notes, [string]$Classroom) {
  foreach ($line in ($Notes -split '\r?\n')) {
    $words = @($line.Trim() -split ' +')
    if ($words[0] -ceq 'labctl:v1' -and $words -ccontains ('classroom=' + $Classroom)) {
      return $true
    }
  }
  return $false
}
try {
  $classroom = 'cd26'
  $dir = 'C:\ProgramData\labctl\cd26'
  $marker = Join-Path $dir '.labctl-pool'
  $vms = @(Get-VM | Where-Object { Test-LabctlTag $_.Notes $classroom } | ForEach-Object {
    [pscustomobject]@{ Name = $_.Name; State = [string]$_.State; Notes = $_.Notes;
      MemoryStartup = $_.MemoryStartup; ProcessorCount = $_.ProcessorCount }
  })
  $nat = Get-NetNat -Name 'cd26-nat' -ErrorAction SilentlyContinue | Select-Object -First 1
  $switches = @(Get-VMSwitch | Where-Object { Test-LabctlTag $_.Notes $classroom } | ForEach-Object {
    $ip = Get-NetIPAddress -InterfaceAlias ('vEthernet (' + $_.Name + ')') -AddressFamily IPv4 -ErrorAction SilentlyContinue | Select-Object -First 1
    [pscustomobject]@{ Name = $_.Name; SwitchType = [string]$_.SwitchType; Notes = $_.Notes;
      Address = $(if ($ip) { $ip.IPAddress + '/' + $ip.PrefixLength } else { '' }) }
  })
  $otherVms = @(Get-VM | Where-Object { -not (Test-LabctlTag $_.Notes $classroom) } | ForEach-Object { [pscustomobject]@{ Name = $_.Name; Notes = $_.Notes } })
  $otherSwitches = @(Get-VMSwitch | Where-Object { -not (Test-LabctlTag $_.Notes $classroom) } |
    ForEach-Object { [pscustomobject]@{ Name = $_.Name; SwitchType = [string]$_.SwitchType; Notes = $_.Notes } })
  $natInfo = $(if ($nat) { [pscustomobject]@{ Name = $nat.Name; Prefix = $nat.InternalIPInterfaceAddressPrefix } } else { $null })
  $pool = (Test-Path -LiteralPath $marker) -and (Test-LabctlTag (Get-Content -LiteralPath $marker -Raw) $classroom)
  $files = @()
  if ($pool) {
    $files = @(Get-ChildItem -LiteralPath $dir -File | Where-Object { -not $_.Name.StartsWith('.') } |
      ForEach-Object { [pscustomobject]@{ Name = $_.Name; Length = $_.Length } })
  }
  $access = @()
  if ($pool) {
    $mapped = @(Get-NetNatStaticMapping -NatName 'cd26-nat' -ErrorAction SilentlyContinue | ForEach-Object { [string]$_.ExternalPort })
    foreach ($file in @(Get-ChildItem -LiteralPath $dir -File -Force -Filter '.access-*')) {
      $lines = @(Get-Content -LiteralPath $file.FullName)
      $ports = @($lines | Select-Object -Skip 1)
      $access += [pscustomobject]@{ Team = $file.Name.Substring(8); Owner = [string]$lines[0]; Ports = $ports.Count;
        Present = @($ports | Where-Object { $mapped -contains $_ }).Count }
    }
  }
  ConvertTo-Json -Depth 6 -Compress -InputObject ([pscustomobject]@{ Pool = $pool; Vms = $vms; Switches = $switches; Files = $files; Nat = $natInfo;
    OtherVms = $otherVms; OtherSwitches = $otherSwitches; Access = $access })
} catch {
  [Console]::Error.WriteLine('labctl-error-category: ' + $_.CategoryInfo.Category)
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
# labctl host-info local
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
[Console]::OutputEncoding = [Text.Encoding]::UTF8
try {
  $vmhost = Get-VMHost
  $os = Get-CimInstance Win32_OperatingSystem
  ConvertTo-Json -Depth 6 -Compress -InputObject ([pscustomobject]@{ Name = $vmhost.ComputerName;
    MemoryCapacity = $vmhost.MemoryCapacity; FreePhysicalMemory = $os.FreePhysicalMemory;
    LogicalProcessorCount = $vmhost.LogicalProcessorCount })
} catch {
  [Console]::Error.WriteLine('labctl-error-category: ' + $_.CategoryInfo.Category)
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
# labctl host-networks local
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
[Console]::OutputEncoding = [Text.Encoding]::UTF8
try {
  $switches = @(Get-VMSwitch | ForEach-Object {
    $ip = Get-NetIPAddress -InterfaceAlias ('vEthernet (' + $_.Name + ')') -AddressFamily IPv4 -ErrorAction SilentlyContinue | Select-Object -First 1
    [pscustomobject]@{ Name = $_.Name; Notes = $_.Notes;
      Address = $(if ($ip) { $ip.IPAddress + '/' + $ip.PrefixLength } else { '' }) }
  })
  $nats = @(Get-NetNat -ErrorAction SilentlyContinue | ForEach-Object {
    [pscustomobject]@{ Name = $_.Name; Prefix = $_.InternalIPInterfaceAddressPrefix } })
  ConvertTo-Json -Depth 6 -Compress -InputObject ([pscustomobject]@{ Switches = $switches; Nats = $nats })
} catch {
  [Console]::Error.WriteLine('labctl-error-category: ' + $_.CategoryInfo.Category)
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
# labctl vm-state cd26-team1-vm1
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
[Console]::OutputEncoding = [Text.Encoding]::UTF8
try {
  $vm = Get-VM -Name 'cd26-team1-vm1'
  ConvertTo-Json -Depth 6 -Compress -InputObject ([pscustomobject]@{ Name = $vm.Name; State = [string]$vm.State })
} catch {
  [Console]::Error.WriteLine('labctl-error-category: ' + $_.CategoryInfo.Category)
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
# labctl retag-vm cd26-team1-vm1
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
[Console]::OutputEncoding = [Text.Encoding]::UTF8
function Test-LabctlTag([string]$Notes, [string]$Classroom) {
  foreach ($line in ($Notes -split '\r?\n')) {
    $words = @($line.Trim() -split ' +')
    if ($words[0] -ceq 'labctl:v1' -and $words -ccontains ('classroom=' + $Classroom)) {
      return $true
    }
  }
  return $false
}
try {
  $object = Get-VM -Name 'cd26-team1-vm1'
  if (-not (Test-LabctlTag $object.Notes 'cd26')) {
    throw ('labctl: ' + 'cd26-team1-vm1' + ' does not carry this classroom''s tag')
  }
  Set-VM -VM $object -Notes 'labctl:v1 classroom=cd26 team=team1 role=domain spec=5f3a9c01 identity=0123456789abcdef'
} catch {
  [Console]::Error.WriteLine('labctl-error-category: ' + $_.CategoryInfo.Category)
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
# labctl retag-network cd26-team1-lan
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
[Console]::OutputEncoding = [Text.Encoding]::UTF8
function Test-LabctlTag([string]$Notes, [string]$Classroom) {
  foreach ($line in ($Notes -split '\r?\n')) {
    $words = @($line.Trim() -split ' +')
    if ($words[0] -ceq 'labctl:v1' -and $words -ccontains ('classroom=' + $Classroom)) {
      return $true
    }
  }
  return $false
}
try {
  $object = Get-VMSwitch -Name 'cd26-team1-lan'
  if (-not (Test-LabctlTag $object.Notes 'cd26')) {
    throw ('labctl: ' + 'cd26-team1-lan' + ' does not carry this classroom''s tag')
  }
  Set-VMSwitch -VMSwitch $object -Notes 'labctl:v1 classroom=cd26 team=team1 role=network spec=04b3f5084915 identity=0123456789abcdef'
} catch {
  [Console]::Error.WriteLine('labctl-error-category: ' + $_.CategoryInfo.Category)
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
