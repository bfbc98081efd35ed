# labctl create-pool cd26
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
[Console]::OutputEncoding = [Text.Encoding]::UTF8
try {
  $dir = 'C:\ProgramData\labctl\cd26'
  $marker = Join-Path $dir '.labctl-pool'
  [IO.Directory]::CreateDirectory($dir) | Out-Null
  [IO.File]::WriteAllText($marker, 'labctl:v1 classroom=cd26 team= role=pool spec=')
} catch {
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
# labctl upload-volume cd26-base.qcow2
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
  $dir = 'C:\ProgramData\labctl\cd26'
  $marker = Join-Path $dir '.labctl-pool'
  if (-not (Test-Path -LiteralPath $marker) -or -not (Test-LabctlTag (Get-Content -LiteralPath $marker -Raw) 'cd26')) {
    throw ('labctl: ' + $dir + ' is not this classroom''s labctl directory')
  }
  $path = Join-Path $dir 'cd26-base.vhdx'
  if ([IO.Path]::GetDirectoryName([IO.Path]::GetFullPath($path)) -ne [IO.Path]::GetFullPath($dir)) {
    throw ('labctl: ' + $path + ' is outside ' + $dir)
  }
  Copy-Item -LiteralPath '/var/cache/labctl/debian-12-docker.vhdx' -Destination $path -Force
} catch {
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
# labctl create-network cd26-team1-lan
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
[Console]::OutputEncoding = [Text.Encoding]::UTF8
try {
  $name = 'cd26-team1-lan'
  $pending = 'labctl:v1 classroom=cd26 team=team1 role=network spec=pending identity=0123456789abcdef0123456789abcdef'
  $natName = 'cd26-nat'
  $natPrefix = '10.61.0.0/16'
  $nat = Get-NetNat -Name $natName -ErrorAction SilentlyContinue
  $other = @(Get-NetNat -ErrorAction SilentlyContinue | Where-Object { $_.Name -ne $natName })
  if ($other.Count -gt 0) {
    throw ('labctl: Windows allows one NetNat per host and ''' + $other[0].Name + ''' exists (' + $other[0].InternalIPInterfaceAddressPrefix + '): remove it if nothing uses it, or run this classroom on another host')
  }
  if ($null -ne $nat -and $nat.InternalIPInterfaceAddressPrefix -ne $natPrefix) {
    throw ('labctl: NetNat ' + $natName + ' covers ' + $nat.InternalIPInterfaceAddressPrefix + ' but the lab''s nat networks need ' + $natPrefix + ': labctl down --all, then up')
  }
  New-VMSwitch -Name $name -SwitchType Internal -Notes $pending | Out-Null
  $adapter = Get-NetAdapter -Name ('vEthernet (' + $name + ')')
  New-NetIPAddress -InterfaceIndex $adapter.ifIndex -IPAddress '10.61.1.1' -PrefixLength 24 | Out-Null
  if ($null -eq $nat) {
    New-NetNat -Name $natName -InternalIPInterfaceAddressPrefix $natPrefix | Out-Null
  }
  Set-VMSwitch -Name $name -Notes 'labctl:v1 classroom=cd26 team=team1 role=network spec=04b3f5084915 identity=0123456789abcdef0123456789abcdef'
} catch {
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
# labctl create-network cd26-team1-lab
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
[Console]::OutputEncoding = [Text.Encoding]::UTF8
try {
  $name = 'cd26-team1-lab'
  $pending = 'labctl:v1 classroom=cd26 team=team1 role=network spec=pending identity=0123456789abcdef0123456789abcdef'
  New-VMSwitch -Name $name -SwitchType Private -Notes $pending | Out-Null
  Set-VMSwitch -Name $name -Notes 'labctl:v1 classroom=cd26 team=team1 role=network spec=07b3a2d6bde8 identity=0123456789abcdef0123456789abcdef'
} catch {
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
# labctl create-overlay cd26-team1-vm1.qcow2
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
  $dir = 'C:\ProgramData\labctl\cd26'
  $marker = Join-Path $dir '.labctl-pool'
  if (-not (Test-Path -LiteralPath $marker) -or -not (Test-LabctlTag (Get-Content -LiteralPath $marker -Raw) 'cd26')) {
    throw ('labctl: ' + $dir + ' is not this classroom''s labctl directory')
  }
  $path = Join-Path $dir 'cd26-team1-vm1.vhdx'
  if ([IO.Path]::GetDirectoryName([IO.Path]::GetFullPath($path)) -ne [IO.Path]::GetFullPath($dir)) {
    throw ('labctl: ' + $path + ' is outside ' + $dir)
  }
  $parent = Join-Path $dir 'cd26-base.vhdx'
  if ([IO.Path]::GetDirectoryName([IO.Path]::GetFullPath($parent)) -ne [IO.Path]::GetFullPath($dir)) {
    throw ('labctl: ' + $parent + ' is outside ' + $dir)
  }
  if (-not (Test-Path -LiteralPath $parent)) {
    throw ('labctl: base disk ' + $parent + ' is missing: upload it first')
  }
  New-VHD -Path $path -ParentPath $parent -Differencing -SizeBytes 21474836480 | Out-Null
} catch {
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
# labctl upload-volume cd26-team1-vm1-seed.iso
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
  $dir = 'C:\ProgramData\labctl\cd26'
  $marker = Join-Path $dir '.labctl-pool'
  if (-not (Test-Path -LiteralPath $marker) -or -not (Test-LabctlTag (Get-Content -LiteralPath $marker -Raw) 'cd26')) {
    throw ('labctl: ' + $dir + ' is not this classroom''s labctl directory')
  }
  $path = Join-Path $dir 'cd26-team1-vm1-seed.iso'
  if ([IO.Path]::GetDirectoryName([IO.Path]::GetFullPath($path)) -ne [IO.Path]::GetFullPath($dir)) {
    throw ('labctl: ' + $path + ' is outside ' + $dir)
  }
  Copy-Item -LiteralPath '/var/lib/labctl/cd26/seeds/cd26-team1-vm1-seed.iso' -Destination $path -Force
} catch {
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
# labctl create-overlay cd26-team1-vm2.qcow2
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
  $dir = 'C:\ProgramData\labctl\cd26'
  $marker = Join-Path $dir '.labctl-pool'
  if (-not (Test-Path -LiteralPath $marker) -or -not (Test-LabctlTag (Get-Content -LiteralPath $marker -Raw) 'cd26')) {
    throw ('labctl: ' + $dir + ' is not this classroom''s labctl directory')
  }
  $path = Join-Path $dir 'cd26-team1-vm2.vhdx'
  if ([IO.Path]::GetDirectoryName([IO.Path]::GetFullPath($path)) -ne [IO.Path]::GetFullPath($dir)) {
    throw ('labctl: ' + $path + ' is outside ' + $dir)
  }
  $parent = Join-Path $dir 'cd26-base.vhdx'
  if ([IO.Path]::GetDirectoryName([IO.Path]::GetFullPath($parent)) -ne [IO.Path]::GetFullPath($dir)) {
    throw ('labctl: ' + $parent + ' is outside ' + $dir)
  }
  if (-not (Test-Path -LiteralPath $parent)) {
    throw ('labctl: base disk ' + $parent + ' is missing: upload it first')
  }
  New-VHD -Path $path -ParentPath $parent -Differencing -SizeBytes 21474836480 | Out-Null
} catch {
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
# labctl upload-volume cd26-team1-vm2-seed.iso
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
  $dir = 'C:\ProgramData\labctl\cd26'
  $marker = Join-Path $dir '.labctl-pool'
  if (-not (Test-Path -LiteralPath $marker) -or -not (Test-LabctlTag (Get-Content -LiteralPath $marker -Raw) 'cd26')) {
    throw ('labctl: ' + $dir + ' is not this classroom''s labctl directory')
  }
  $path = Join-Path $dir 'cd26-team1-vm2-seed.iso'
  if ([IO.Path]::GetDirectoryName([IO.Path]::GetFullPath($path)) -ne [IO.Path]::GetFullPath($dir)) {
    throw ('labctl: ' + $path + ' is outside ' + $dir)
  }
  Copy-Item -LiteralPath '/var/lib/labctl/cd26/seeds/cd26-team1-vm2-seed.iso' -Destination $path -Force
} catch {
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
# labctl create-vm cd26-team1-vm1
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
[Console]::OutputEncoding = [Text.Encoding]::UTF8
try {
  $dir = 'C:\ProgramData\labctl\cd26'
  $disk = Join-Path $dir 'cd26-team1-vm1.vhdx'
  $seed = Join-Path $dir 'cd26-team1-vm1-seed.iso'
  foreach ($file in @($disk, $seed)) {
    if (-not (Test-Path -LiteralPath $file)) {
      throw ('labctl: ' + $file + ' is missing: create the volumes first')
    }
  }
  $vm = New-VM -Name 'cd26-team1-vm1' -Generation 2 -MemoryStartupBytes 2147483648 -VHDPath $disk -Path $dir
  Set-VM -VM $vm -Notes 'labctl:v1 classroom=cd26 team=team1 role=domain spec=pending identity=0123456789abcdef0123456789abcdef'
  Set-VM -VM $vm -AutomaticCheckpointsEnabled $false -AutomaticStartAction Nothing -AutomaticStopAction TurnOff
  Set-VMMemory -VM $vm -DynamicMemoryEnabled $false -StartupBytes 2147483648
  Set-VMProcessor -VM $vm -Count 2
  Set-VMFirmware -VM $vm -EnableSecureBoot Off
  Get-VMNetworkAdapter -VM $vm | Remove-VMNetworkAdapter
  Add-VMNetworkAdapter -VM $vm -Name 'lan' -SwitchName 'cd26-team1-lan' -StaticMacAddress '02C41E010100'
  Add-VMNetworkAdapter -VM $vm -Name 'lab' -SwitchName 'cd26-team1-lab' -StaticMacAddress '02C41E010101'
  Add-VMDvdDrive -VM $vm -Path $seed
  Set-VMFirmware -VM $vm -FirstBootDevice (Get-VMHardDiskDrive -VM $vm | Select-Object -First 1)
  Set-VM -VM $vm -Notes 'labctl:v1 classroom=cd26 team=team1 role=domain spec=5f3a9c01 identity=0123456789abcdef0123456789abcdef'
} catch {
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
# labctl start-vm cd26-team1-vm1
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
[Console]::OutputEncoding = [Text.Encoding]::UTF8
try {
  Start-VM -Name 'cd26-team1-vm1'
} catch {
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
# labctl create-vm cd26-team1-vm2
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
[Console]::OutputEncoding = [Text.Encoding]::UTF8
try {
  $dir = 'C:\ProgramData\labctl\cd26'
  $disk = Join-Path $dir 'cd26-team1-vm2.vhdx'
  $seed = Join-Path $dir 'cd26-team1-vm2-seed.iso'
  foreach ($file in @($disk, $seed)) {
    if (-not (Test-Path -LiteralPath $file)) {
      throw ('labctl: ' + $file + ' is missing: create the volumes first')
    }
  }
  $vm = New-VM -Name 'cd26-team1-vm2' -Generation 2 -MemoryStartupBytes 2147483648 -VHDPath $disk -Path $dir
  Set-VM -VM $vm -Notes 'labctl:v1 classroom=cd26 team=team1 role=domain spec=pending identity=0123456789abcdef0123456789abcdef'
  Set-VM -VM $vm -AutomaticCheckpointsEnabled $false -AutomaticStartAction Nothing -AutomaticStopAction TurnOff
  Set-VMMemory -VM $vm -DynamicMemoryEnabled $false -StartupBytes 2147483648
  Set-VMProcessor -VM $vm -Count 2
  Set-VMFirmware -VM $vm -EnableSecureBoot Off
  Get-VMNetworkAdapter -VM $vm | Remove-VMNetworkAdapter
  Add-VMNetworkAdapter -VM $vm -Name 'lan' -SwitchName 'cd26-team1-lan' -StaticMacAddress '02C41E010200'
  Add-VMNetworkAdapter -VM $vm -Name 'lab' -SwitchName 'cd26-team1-lab' -StaticMacAddress '02C41E010201'
  Add-VMDvdDrive -VM $vm -Path $seed
  Set-VMFirmware -VM $vm -FirstBootDevice (Get-VMHardDiskDrive -VM $vm | Select-Object -First 1)
  Set-VM -VM $vm -Notes 'labctl:v1 classroom=cd26 team=team1 role=domain spec=5f3a9c02 identity=0123456789abcdef0123456789abcdef'
} catch {
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
# labctl start-vm cd26-team1-vm2
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
[Console]::OutputEncoding = [Text.Encoding]::UTF8
try {
  Start-VM -Name 'cd26-team1-vm2'
} catch {
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
