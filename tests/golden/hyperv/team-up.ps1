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
  [Console]::Error.WriteLine('labctl-error-category: ' + $_.CategoryInfo.Category)
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
  Copy-Item -LiteralPath '\\wsl.localhost\Debian\var\cache\labctl\debian-12-docker.vhdx' -Destination $path -Force
} catch {
  [Console]::Error.WriteLine('labctl-error-category: ' + $_.CategoryInfo.Category)
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
  New-NetIPAddress -InterfaceIndex $adapter.ifIndex -IPAddress '10.61.0.1' -PrefixLength 24 | Out-Null
  if ($null -eq $nat) {
    New-NetNat -Name $natName -InternalIPInterfaceAddressPrefix $natPrefix | Out-Null
  }
  Set-VMSwitch -Name $name -Notes 'labctl:v1 classroom=cd26 team=team1 role=network spec=2c8d6eba7731 identity=0123456789abcdef0123456789abcdef'
  $labctlSwitches = @(Get-VMSwitch -SwitchType Internal | Where-Object { [string]$_.Notes -clike 'labctl:v1 *' })
  if ($labctlSwitches.Count -gt 0) {
    foreach ($switch in $labctlSwitches) {
      Set-NetIPInterface -InterfaceAlias ('vEthernet (' + $switch.Name + ')') -AddressFamily IPv4 -Forwarding Enabled
    }
    $wsl = @(Get-NetIPInterface -AddressFamily IPv4 -ErrorAction SilentlyContinue | Where-Object { $_.InterfaceAlias -like 'vEthernet (WSL*' })
    foreach ($interface in $wsl) {
      if ([string]$interface.Forwarding -ne 'Enabled') {
        Set-NetIPInterface -InterfaceIndex $interface.InterfaceIndex -AddressFamily IPv4 -Forwarding Enabled
        [IO.Directory]::CreateDirectory('C:\ProgramData\labctl') | Out-Null
        Add-Content -LiteralPath (Join-Path 'C:\ProgramData\labctl' 'wsl-forwarding.txt') -Value $interface.InterfaceAlias
      }
    }
    $registryPrefix = '10.255.255.1/32'
    $wslAddress = '172.29.18.5'
    if ($wsl.Count -gt 0) {
      $via = @(Find-NetRoute -RemoteIPAddress $wslAddress -ErrorAction SilentlyContinue | Where-Object { $_.InterfaceAlias -like 'vEthernet (WSL*' })
      if ($via.Count -eq 0) {
        throw ('labctl: WSL''s address ' + $wslAddress + ' is not reached through a vEthernet (WSL*) interface: no route to the classroom registry ' + $registryPrefix)
      }
      $routeRecord = Join-Path 'C:\ProgramData\labctl' 'wsl-route.txt'
      $ours = (Test-Path -LiteralPath $routeRecord) -and (@(Get-Content -LiteralPath $routeRecord) -contains $registryPrefix)
      $routes = @(Get-NetRoute -DestinationPrefix $registryPrefix -AddressFamily IPv4 -ErrorAction SilentlyContinue)
      $current = $routes.Count -eq 1 -and $routes[0].NextHop -eq $wslAddress -and $routes[0].InterfaceIndex -eq $via[0].InterfaceIndex
      if (($ours -or $routes.Count -eq 0) -and -not $current) {
        $routes | Remove-NetRoute -Confirm:$false -ErrorAction SilentlyContinue
        New-NetRoute -DestinationPrefix $registryPrefix -InterfaceIndex $via[0].InterfaceIndex -NextHop $wslAddress -PolicyStore ActiveStore | Out-Null
        if (-not $ours) {
          [IO.Directory]::CreateDirectory('C:\ProgramData\labctl') | Out-Null
          Add-Content -LiteralPath $routeRecord -Value $registryPrefix
        }
      }
    }
  }
} catch {
  [Console]::Error.WriteLine('labctl-error-category: ' + $_.CategoryInfo.Category)
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
  Set-VMSwitch -Name $name -Notes 'labctl:v1 classroom=cd26 team=team1 role=network spec=446a6170d251 identity=0123456789abcdef0123456789abcdef'
} catch {
  [Console]::Error.WriteLine('labctl-error-category: ' + $_.CategoryInfo.Category)
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
  [Console]::Error.WriteLine('labctl-error-category: ' + $_.CategoryInfo.Category)
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
  Copy-Item -LiteralPath '\\wsl.localhost\Debian\var\lib\labctl\cd26\seeds\cd26-team1-vm1-seed.iso' -Destination $path -Force
} catch {
  [Console]::Error.WriteLine('labctl-error-category: ' + $_.CategoryInfo.Category)
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
  [Console]::Error.WriteLine('labctl-error-category: ' + $_.CategoryInfo.Category)
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
  Copy-Item -LiteralPath '\\wsl.localhost\Debian\var\lib\labctl\cd26\seeds\cd26-team1-vm2-seed.iso' -Destination $path -Force
} catch {
  [Console]::Error.WriteLine('labctl-error-category: ' + $_.CategoryInfo.Category)
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
  Add-VMNetworkAdapter -VM $vm -Name 'lan' -SwitchName 'cd26-team1-lan' -StaticMacAddress '02D752010100'
  Add-VMNetworkAdapter -VM $vm -Name 'lab' -SwitchName 'cd26-team1-lab' -StaticMacAddress '02D752010101'
  Set-VMComPort -VM $vm -Number 1 -Path '\\.\pipe\labctl-cd26-team1-vm1'
  Add-VMDvdDrive -VM $vm -Path $seed
  Set-VMFirmware -VM $vm -FirstBootDevice (Get-VMHardDiskDrive -VM $vm | Select-Object -First 1)
  Set-VM -VM $vm -Notes 'labctl:v1 classroom=cd26 team=team1 role=domain spec=79feb031affd identity=0123456789abcdef0123456789abcdef'
} catch {
  [Console]::Error.WriteLine('labctl-error-category: ' + $_.CategoryInfo.Category)
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
# labctl start-vm cd26-team1-vm1
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
[Console]::OutputEncoding = [Text.Encoding]::UTF8
try {
  $labctlSwitches = @(Get-VMSwitch -SwitchType Internal | Where-Object { [string]$_.Notes -clike 'labctl:v1 *' })
  if ($labctlSwitches.Count -gt 0) {
    foreach ($switch in $labctlSwitches) {
      Set-NetIPInterface -InterfaceAlias ('vEthernet (' + $switch.Name + ')') -AddressFamily IPv4 -Forwarding Enabled
    }
    $wsl = @(Get-NetIPInterface -AddressFamily IPv4 -ErrorAction SilentlyContinue | Where-Object { $_.InterfaceAlias -like 'vEthernet (WSL*' })
    foreach ($interface in $wsl) {
      if ([string]$interface.Forwarding -ne 'Enabled') {
        Set-NetIPInterface -InterfaceIndex $interface.InterfaceIndex -AddressFamily IPv4 -Forwarding Enabled
        [IO.Directory]::CreateDirectory('C:\ProgramData\labctl') | Out-Null
        Add-Content -LiteralPath (Join-Path 'C:\ProgramData\labctl' 'wsl-forwarding.txt') -Value $interface.InterfaceAlias
      }
    }
    $registryPrefix = '10.255.255.1/32'
    $wslAddress = '172.29.18.5'
    if ($wsl.Count -gt 0) {
      $via = @(Find-NetRoute -RemoteIPAddress $wslAddress -ErrorAction SilentlyContinue | Where-Object { $_.InterfaceAlias -like 'vEthernet (WSL*' })
      if ($via.Count -eq 0) {
        throw ('labctl: WSL''s address ' + $wslAddress + ' is not reached through a vEthernet (WSL*) interface: no route to the classroom registry ' + $registryPrefix)
      }
      $routeRecord = Join-Path 'C:\ProgramData\labctl' 'wsl-route.txt'
      $ours = (Test-Path -LiteralPath $routeRecord) -and (@(Get-Content -LiteralPath $routeRecord) -contains $registryPrefix)
      $routes = @(Get-NetRoute -DestinationPrefix $registryPrefix -AddressFamily IPv4 -ErrorAction SilentlyContinue)
      $current = $routes.Count -eq 1 -and $routes[0].NextHop -eq $wslAddress -and $routes[0].InterfaceIndex -eq $via[0].InterfaceIndex
      if (($ours -or $routes.Count -eq 0) -and -not $current) {
        $routes | Remove-NetRoute -Confirm:$false -ErrorAction SilentlyContinue
        New-NetRoute -DestinationPrefix $registryPrefix -InterfaceIndex $via[0].InterfaceIndex -NextHop $wslAddress -PolicyStore ActiveStore | Out-Null
        if (-not $ours) {
          [IO.Directory]::CreateDirectory('C:\ProgramData\labctl') | Out-Null
          Add-Content -LiteralPath $routeRecord -Value $registryPrefix
        }
      }
    }
  }
  Start-Process -FilePath 'powershell.exe' -WindowStyle Hidden -ArgumentList @('-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-EncodedCommand', 'IwAgAGwAYQBiAGMAdABsACAAYwBvAG4AcwBvAGwAZQAgAGMAZAAyADYALQB0AGUAYQBtADEALQB2AG0AMQAKACQARQByAHIAbwByAEEAYwB0AGkAbwBuAFAAcgBlAGYAZQByAGUAbgBjAGUAIAA9ACAAJwBTAHQAbwBwACcACgAkAFAAcgBvAGcAcgBlAHMAcwBQAHIAZQBmAGUAcgBlAG4AYwBlACAAPQAgACcAUwBpAGwAZQBuAHQAbAB5AEMAbwBuAHQAaQBuAHUAZQAnAAoAWwBDAG8AbgBzAG8AbABlAF0AOgA6AE8AdQB0AHAAdQB0AEUAbgBjAG8AZABpAG4AZwAgAD0AIABbAFQAZQB4AHQALgBFAG4AYwBvAGQAaQBuAGcAXQA6ADoAVQBUAEYAOAAKAHQAcgB5ACAAewAKACAAIAAkAGwAbwBnACAAPQAgACcAXABcAHcAcwBsAC4AbABvAGMAYQBsAGgAbwBzAHQAXABEAGUAYgBpAGEAbgBcAGgAbwBtAGUAXAB0AGUAYQBjAGgAZQByAFwALgBsAG8AYwBhAGwAXABzAHQAYQB0AGUAXABsAGEAYgBjAHQAbABcAGMAZAAyADYAXABsAG8AZwBzAFwAYwBkADIANgAtAHQAZQBhAG0AMQAtAHYAbQAxAC4AcwBlAHIAaQBhAGwALgBsAG8AZwAnAAoAIAAgACQAcABpAHAAZQAgAD0AIABbAEkATwAuAFAAaQBwAGUAcwAuAE4AYQBtAGUAZABQAGkAcABlAEMAbABpAGUAbgB0AFMAdAByAGUAYQBtAF0AOgA6AG4AZQB3ACgAJwAuACcALAAgACcAbABhAGIAYwB0AGwALQBjAGQAMgA2AC0AdABlAGEAbQAxAC0AdgBtADEAJwAsACAAWwBJAE8ALgBQAGkAcABlAHMALgBQAGkAcABlAEQAaQByAGUAYwB0AGkAbwBuAF0AOgA6AEkAbgApAAoAIAAgACQAZABlAGEAZABsAGkAbgBlACAAPQAgACgARwBlAHQALQBEAGEAdABlACkALgBBAGQAZABNAGkAbgB1AHQAZQBzACgAMgApAAoAIAAgAHcAaABpAGwAZQAgACgALQBuAG8AdAAgACQAcABpAHAAZQAuAEkAcwBDAG8AbgBuAGUAYwB0AGUAZAApACAAewAKACAAIAAgACAAdAByAHkAIAB7AAoAIAAgACAAIAAgACAAJABwAGkAcABlAC4AQwBvAG4AbgBlAGMAdAAoADEAMAAwADAAKQAKACAAIAAgACAAfQAgAGMAYQB0AGMAaAAgAHsACgAgACAAIAAgACAAIABpAGYAIAAoACgARwBlAHQALQBEAGEAdABlACkAIAAtAGcAdAAgACQAZABlAGEAZABsAGkAbgBlACkAIAB7AAoAIAAgACAAIAAgACAAIAAgAHQAaAByAG8AdwAKACAAIAAgACAAIAAgAH0ACgAgACAAIAAgACAAIABTAHQAYQByAHQALQBTAGwAZQBlAHAAIAAtAE0AaQBsAGwAaQBzAGUAYwBvAG4AZABzACAANQAwADAACgAgACAAIAAgAH0ACgAgACAAfQAKACAAIAAkAG8AdQB0ACAAPQAgAFsASQBPAC4ARgBpAGwAZQBTAHQAcgBlAGEAbQBdADoAOgBuAGUAdwAoACQAbABvAGcALAAgAFsASQBPAC4ARgBpAGwAZQBNAG8AZABlAF0AOgA6AEMAcgBlAGEAdABlACwAIABbAEkATwAuAEYAaQBsAGUAQQBjAGMAZQBzAHMAXQA6ADoAVwByAGkAdABlACwAIABbAEkATwAuAEYAaQBsAGUAUwBoAGEAcgBlAF0AOgA6AFIAZQBhAGQAVwByAGkAdABlACkACgAgACAAJABiAHUAZgBmAGUAcgAgAD0AIABOAGUAdwAtAE8AYgBqAGUAYwB0ACAAYgB5AHQAZQBbAF0AIAA0ADAAOQA2AAoAIAAgAHQAcgB5ACAAewAKACAAIAAgACAAdwBoAGkAbABlACAAKAAoACQAYwBvAHUAbgB0ACAAPQAgACQAcABpAHAAZQAuAFIAZQBhAGQAKAAkAGIAdQBmAGYAZQByACwAIAAwACwAIAAkAGIAdQBmAGYAZQByAC4ATABlAG4AZwB0AGgAKQApACAALQBnAHQAIAAwACkAIAB7AAoAIAAgACAAIAAgACAAJABvAHUAdAAuAFcAcgBpAHQAZQAoACQAYgB1AGYAZgBlAHIALAAgADAALAAgACQAYwBvAHUAbgB0ACkACgAgACAAIAAgACAAIAAkAG8AdQB0AC4ARgBsAHUAcwBoACgAKQAKACAAIAAgACAAfQAKACAAIAB9ACAAZgBpAG4AYQBsAGwAeQAgAHsACgAgACAAIAAgACQAbwB1AHQALgBEAGkAcwBwAG8AcwBlACgAKQAKACAAIAAgACAAJABwAGkAcABlAC4ARABpAHMAcABvAHMAZQAoACkACgAgACAAfQAKAH0AIABjAGEAdABjAGgAIAB7AAoAIAAgAFsAQwBvAG4AcwBvAGwAZQBdADoAOgBFAHIAcgBvAHIALgBXAHIAaQB0AGUATABpAG4AZQAoACcAbABhAGIAYwB0AGwALQBlAHIAcgBvAHIALQBjAGEAdABlAGcAbwByAHkAOgAgACcAIAArACAAJABfAC4AQwBhAHQAZQBnAG8AcgB5AEkAbgBmAG8ALgBDAGEAdABlAGcAbwByAHkAKQAKACAAIAAkAHcAaABlAHIAZQAgAD0AIABpAGYAIAAoACQAXwAuAEkAbgB2AG8AYwBhAHQAaQBvAG4ASQBuAGYAbwAuAE0AeQBDAG8AbQBtAGEAbgBkACkAIAB7ACAAJABfAC4ASQBuAHYAbwBjAGEAdABpAG8AbgBJAG4AZgBvAC4ATQB5AEMAbwBtAG0AYQBuAGQALgBOAGEAbQBlACAAKwAgACcAOgAgACcAIAB9ACAAZQBsAHMAZQAgAHsAIAAnACcAIAB9AAoAIAAgAFsAQwBvAG4AcwBvAGwAZQBdADoAOgBFAHIAcgBvAHIALgBXAHIAaQB0AGUATABpAG4AZQAoACcAbABhAGIAYwB0AGwALQBlAHIAcgBvAHIAOgAgACcAIAArACAAJAB3AGgAZQByAGUAIAArACAAKAAkAF8ALgBFAHgAYwBlAHAAdABpAG8AbgAuAE0AZQBzAHMAYQBnAGUAIAAtAHIAZQBwAGwAYQBjAGUAIAAnAFwAcwArACcALAAgACcAIAAnACkAKQAKACAAIABlAHgAaQB0ACAAMQAKAH0ACgA=')
  Start-VM -Name 'cd26-team1-vm1'
} catch {
  [Console]::Error.WriteLine('labctl-error-category: ' + $_.CategoryInfo.Category)
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
  Add-VMNetworkAdapter -VM $vm -Name 'lan' -SwitchName 'cd26-team1-lan' -StaticMacAddress '02D752010200'
  Add-VMNetworkAdapter -VM $vm -Name 'lab' -SwitchName 'cd26-team1-lab' -StaticMacAddress '02D752010201'
  Set-VMComPort -VM $vm -Number 1 -Path '\\.\pipe\labctl-cd26-team1-vm2'
  Add-VMDvdDrive -VM $vm -Path $seed
  Set-VMFirmware -VM $vm -FirstBootDevice (Get-VMHardDiskDrive -VM $vm | Select-Object -First 1)
  Set-VM -VM $vm -Notes 'labctl:v1 classroom=cd26 team=team1 role=domain spec=7bde828e59fc identity=0123456789abcdef0123456789abcdef'
} catch {
  [Console]::Error.WriteLine('labctl-error-category: ' + $_.CategoryInfo.Category)
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
# labctl start-vm cd26-team1-vm2
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
[Console]::OutputEncoding = [Text.Encoding]::UTF8
try {
  $labctlSwitches = @(Get-VMSwitch -SwitchType Internal | Where-Object { [string]$_.Notes -clike 'labctl:v1 *' })
  if ($labctlSwitches.Count -gt 0) {
    foreach ($switch in $labctlSwitches) {
      Set-NetIPInterface -InterfaceAlias ('vEthernet (' + $switch.Name + ')') -AddressFamily IPv4 -Forwarding Enabled
    }
    $wsl = @(Get-NetIPInterface -AddressFamily IPv4 -ErrorAction SilentlyContinue | Where-Object { $_.InterfaceAlias -like 'vEthernet (WSL*' })
    foreach ($interface in $wsl) {
      if ([string]$interface.Forwarding -ne 'Enabled') {
        Set-NetIPInterface -InterfaceIndex $interface.InterfaceIndex -AddressFamily IPv4 -Forwarding Enabled
        [IO.Directory]::CreateDirectory('C:\ProgramData\labctl') | Out-Null
        Add-Content -LiteralPath (Join-Path 'C:\ProgramData\labctl' 'wsl-forwarding.txt') -Value $interface.InterfaceAlias
      }
    }
    $registryPrefix = '10.255.255.1/32'
    $wslAddress = '172.29.18.5'
    if ($wsl.Count -gt 0) {
      $via = @(Find-NetRoute -RemoteIPAddress $wslAddress -ErrorAction SilentlyContinue | Where-Object { $_.InterfaceAlias -like 'vEthernet (WSL*' })
      if ($via.Count -eq 0) {
        throw ('labctl: WSL''s address ' + $wslAddress + ' is not reached through a vEthernet (WSL*) interface: no route to the classroom registry ' + $registryPrefix)
      }
      $routeRecord = Join-Path 'C:\ProgramData\labctl' 'wsl-route.txt'
      $ours = (Test-Path -LiteralPath $routeRecord) -and (@(Get-Content -LiteralPath $routeRecord) -contains $registryPrefix)
      $routes = @(Get-NetRoute -DestinationPrefix $registryPrefix -AddressFamily IPv4 -ErrorAction SilentlyContinue)
      $current = $routes.Count -eq 1 -and $routes[0].NextHop -eq $wslAddress -and $routes[0].InterfaceIndex -eq $via[0].InterfaceIndex
      if (($ours -or $routes.Count -eq 0) -and -not $current) {
        $routes | Remove-NetRoute -Confirm:$false -ErrorAction SilentlyContinue
        New-NetRoute -DestinationPrefix $registryPrefix -InterfaceIndex $via[0].InterfaceIndex -NextHop $wslAddress -PolicyStore ActiveStore | Out-Null
        if (-not $ours) {
          [IO.Directory]::CreateDirectory('C:\ProgramData\labctl') | Out-Null
          Add-Content -LiteralPath $routeRecord -Value $registryPrefix
        }
      }
    }
  }
  Start-Process -FilePath 'powershell.exe' -WindowStyle Hidden -ArgumentList @('-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-EncodedCommand', 'IwAgAGwAYQBiAGMAdABsACAAYwBvAG4AcwBvAGwAZQAgAGMAZAAyADYALQB0AGUAYQBtADEALQB2AG0AMgAKACQARQByAHIAbwByAEEAYwB0AGkAbwBuAFAAcgBlAGYAZQByAGUAbgBjAGUAIAA9ACAAJwBTAHQAbwBwACcACgAkAFAAcgBvAGcAcgBlAHMAcwBQAHIAZQBmAGUAcgBlAG4AYwBlACAAPQAgACcAUwBpAGwAZQBuAHQAbAB5AEMAbwBuAHQAaQBuAHUAZQAnAAoAWwBDAG8AbgBzAG8AbABlAF0AOgA6AE8AdQB0AHAAdQB0AEUAbgBjAG8AZABpAG4AZwAgAD0AIABbAFQAZQB4AHQALgBFAG4AYwBvAGQAaQBuAGcAXQA6ADoAVQBUAEYAOAAKAHQAcgB5ACAAewAKACAAIAAkAGwAbwBnACAAPQAgACcAXABcAHcAcwBsAC4AbABvAGMAYQBsAGgAbwBzAHQAXABEAGUAYgBpAGEAbgBcAGgAbwBtAGUAXAB0AGUAYQBjAGgAZQByAFwALgBsAG8AYwBhAGwAXABzAHQAYQB0AGUAXABsAGEAYgBjAHQAbABcAGMAZAAyADYAXABsAG8AZwBzAFwAYwBkADIANgAtAHQAZQBhAG0AMQAtAHYAbQAyAC4AcwBlAHIAaQBhAGwALgBsAG8AZwAnAAoAIAAgACQAcABpAHAAZQAgAD0AIABbAEkATwAuAFAAaQBwAGUAcwAuAE4AYQBtAGUAZABQAGkAcABlAEMAbABpAGUAbgB0AFMAdAByAGUAYQBtAF0AOgA6AG4AZQB3ACgAJwAuACcALAAgACcAbABhAGIAYwB0AGwALQBjAGQAMgA2AC0AdABlAGEAbQAxAC0AdgBtADIAJwAsACAAWwBJAE8ALgBQAGkAcABlAHMALgBQAGkAcABlAEQAaQByAGUAYwB0AGkAbwBuAF0AOgA6AEkAbgApAAoAIAAgACQAZABlAGEAZABsAGkAbgBlACAAPQAgACgARwBlAHQALQBEAGEAdABlACkALgBBAGQAZABNAGkAbgB1AHQAZQBzACgAMgApAAoAIAAgAHcAaABpAGwAZQAgACgALQBuAG8AdAAgACQAcABpAHAAZQAuAEkAcwBDAG8AbgBuAGUAYwB0AGUAZAApACAAewAKACAAIAAgACAAdAByAHkAIAB7AAoAIAAgACAAIAAgACAAJABwAGkAcABlAC4AQwBvAG4AbgBlAGMAdAAoADEAMAAwADAAKQAKACAAIAAgACAAfQAgAGMAYQB0AGMAaAAgAHsACgAgACAAIAAgACAAIABpAGYAIAAoACgARwBlAHQALQBEAGEAdABlACkAIAAtAGcAdAAgACQAZABlAGEAZABsAGkAbgBlACkAIAB7AAoAIAAgACAAIAAgACAAIAAgAHQAaAByAG8AdwAKACAAIAAgACAAIAAgAH0ACgAgACAAIAAgACAAIABTAHQAYQByAHQALQBTAGwAZQBlAHAAIAAtAE0AaQBsAGwAaQBzAGUAYwBvAG4AZABzACAANQAwADAACgAgACAAIAAgAH0ACgAgACAAfQAKACAAIAAkAG8AdQB0ACAAPQAgAFsASQBPAC4ARgBpAGwAZQBTAHQAcgBlAGEAbQBdADoAOgBuAGUAdwAoACQAbABvAGcALAAgAFsASQBPAC4ARgBpAGwAZQBNAG8AZABlAF0AOgA6AEMAcgBlAGEAdABlACwAIABbAEkATwAuAEYAaQBsAGUAQQBjAGMAZQBzAHMAXQA6ADoAVwByAGkAdABlACwAIABbAEkATwAuAEYAaQBsAGUAUwBoAGEAcgBlAF0AOgA6AFIAZQBhAGQAVwByAGkAdABlACkACgAgACAAJABiAHUAZgBmAGUAcgAgAD0AIABOAGUAdwAtAE8AYgBqAGUAYwB0ACAAYgB5AHQAZQBbAF0AIAA0ADAAOQA2AAoAIAAgAHQAcgB5ACAAewAKACAAIAAgACAAdwBoAGkAbABlACAAKAAoACQAYwBvAHUAbgB0ACAAPQAgACQAcABpAHAAZQAuAFIAZQBhAGQAKAAkAGIAdQBmAGYAZQByACwAIAAwACwAIAAkAGIAdQBmAGYAZQByAC4ATABlAG4AZwB0AGgAKQApACAALQBnAHQAIAAwACkAIAB7AAoAIAAgACAAIAAgACAAJABvAHUAdAAuAFcAcgBpAHQAZQAoACQAYgB1AGYAZgBlAHIALAAgADAALAAgACQAYwBvAHUAbgB0ACkACgAgACAAIAAgACAAIAAkAG8AdQB0AC4ARgBsAHUAcwBoACgAKQAKACAAIAAgACAAfQAKACAAIAB9ACAAZgBpAG4AYQBsAGwAeQAgAHsACgAgACAAIAAgACQAbwB1AHQALgBEAGkAcwBwAG8AcwBlACgAKQAKACAAIAAgACAAJABwAGkAcABlAC4ARABpAHMAcABvAHMAZQAoACkACgAgACAAfQAKAH0AIABjAGEAdABjAGgAIAB7AAoAIAAgAFsAQwBvAG4AcwBvAGwAZQBdADoAOgBFAHIAcgBvAHIALgBXAHIAaQB0AGUATABpAG4AZQAoACcAbABhAGIAYwB0AGwALQBlAHIAcgBvAHIALQBjAGEAdABlAGcAbwByAHkAOgAgACcAIAArACAAJABfAC4AQwBhAHQAZQBnAG8AcgB5AEkAbgBmAG8ALgBDAGEAdABlAGcAbwByAHkAKQAKACAAIAAkAHcAaABlAHIAZQAgAD0AIABpAGYAIAAoACQAXwAuAEkAbgB2AG8AYwBhAHQAaQBvAG4ASQBuAGYAbwAuAE0AeQBDAG8AbQBtAGEAbgBkACkAIAB7ACAAJABfAC4ASQBuAHYAbwBjAGEAdABpAG8AbgBJAG4AZgBvAC4ATQB5AEMAbwBtAG0AYQBuAGQALgBOAGEAbQBlACAAKwAgACcAOgAgACcAIAB9ACAAZQBsAHMAZQAgAHsAIAAnACcAIAB9AAoAIAAgAFsAQwBvAG4AcwBvAGwAZQBdADoAOgBFAHIAcgBvAHIALgBXAHIAaQB0AGUATABpAG4AZQAoACcAbABhAGIAYwB0AGwALQBlAHIAcgBvAHIAOgAgACcAIAArACAAJAB3AGgAZQByAGUAIAArACAAKAAkAF8ALgBFAHgAYwBlAHAAdABpAG8AbgAuAE0AZQBzAHMAYQBnAGUAIAAtAHIAZQBwAGwAYQBjAGUAIAAnAFwAcwArACcALAAgACcAIAAnACkAKQAKACAAIABlAHgAaQB0ACAAMQAKAH0ACgA=')
  Start-VM -Name 'cd26-team1-vm2'
} catch {
  [Console]::Error.WriteLine('labctl-error-category: ' + $_.CategoryInfo.Category)
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
# labctl console cd26-team1-vm1
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
[Console]::OutputEncoding = [Text.Encoding]::UTF8
try {
  $log = '\\wsl.localhost\Debian\home\teacher\.local\state\labctl\cd26\logs\cd26-team1-vm1.serial.log'
  $pipe = [IO.Pipes.NamedPipeClientStream]::new('.', 'labctl-cd26-team1-vm1', [IO.Pipes.PipeDirection]::In)
  $deadline = (Get-Date).AddMinutes(2)
  while (-not $pipe.IsConnected) {
    try {
      $pipe.Connect(1000)
    } catch {
      if ((Get-Date) -gt $deadline) {
        throw
      }
      Start-Sleep -Milliseconds 500
    }
  }
  $out = [IO.FileStream]::new($log, [IO.FileMode]::Create, [IO.FileAccess]::Write, [IO.FileShare]::ReadWrite)
  $buffer = New-Object byte[] 4096
  try {
    while (($count = $pipe.Read($buffer, 0, $buffer.Length)) -gt 0) {
      $out.Write($buffer, 0, $count)
      $out.Flush()
    }
  } finally {
    $out.Dispose()
    $pipe.Dispose()
  }
} catch {
  [Console]::Error.WriteLine('labctl-error-category: ' + $_.CategoryInfo.Category)
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
