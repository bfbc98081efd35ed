# labctl stop-vm cd26-team1-vm1
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
[Console]::OutputEncoding = [Text.Encoding]::UTF8
try {
  $vm = Get-VM -Name 'cd26-team1-vm1'
  if ($vm.State -ne 'Off') {
    Stop-VM -VM $vm -TurnOff -Force
  }
} catch {
  [Console]::Error.WriteLine('labctl-error-category: ' + $_.CategoryInfo.Category)
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
# labctl delete-vm cd26-team1-vm1
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
  $dir = [IO.Path]::GetFullPath('C:\ProgramData\labctl\cd26')
  $vm = Get-VM -Name 'cd26-team1-vm1' -ErrorAction SilentlyContinue
  if ($null -ne $vm) {
    if (-not (Test-LabctlTag $vm.Notes 'cd26')) {
      throw ('labctl: VM ' + $vm.Name + ' does not carry this classroom''s tag; not deleting it')
    }
    $disks = @(Get-VMHardDiskDrive -VM $vm | ForEach-Object { $_.Path })
    if ($vm.State -ne 'Off') {
      Stop-VM -VM $vm -TurnOff -Force
    }
    Remove-VM -VM $vm -Force
    foreach ($disk in $disks) {
      if ((Test-Path -LiteralPath $disk) -and [IO.Path]::GetDirectoryName([IO.Path]::GetFullPath($disk)) -eq $dir) {
        Remove-Item -LiteralPath $disk -Force
      }
    }
  }
} catch {
  [Console]::Error.WriteLine('labctl-error-category: ' + $_.CategoryInfo.Category)
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
# labctl delete-volume cd26-team1-vm1.qcow2
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
  if (Test-Path -LiteralPath $dir) {
    if (-not (Test-Path -LiteralPath $marker) -or -not (Test-LabctlTag (Get-Content -LiteralPath $marker -Raw) 'cd26')) {
      throw ('labctl: ' + $dir + ' is not this classroom''s labctl directory')
    }
    $path = Join-Path $dir 'cd26-team1-vm1.vhdx'
    if ([IO.Path]::GetDirectoryName([IO.Path]::GetFullPath($path)) -ne [IO.Path]::GetFullPath($dir)) {
      throw ('labctl: ' + $path + ' is outside ' + $dir)
    }
    if (Test-Path -LiteralPath $path) {
      Remove-Item -LiteralPath $path -Force
    }
  }
} catch {
  [Console]::Error.WriteLine('labctl-error-category: ' + $_.CategoryInfo.Category)
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
# labctl delete-volume cd26-team1-vm1-seed.iso
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
  if (Test-Path -LiteralPath $dir) {
    if (-not (Test-Path -LiteralPath $marker) -or -not (Test-LabctlTag (Get-Content -LiteralPath $marker -Raw) 'cd26')) {
      throw ('labctl: ' + $dir + ' is not this classroom''s labctl directory')
    }
    $path = Join-Path $dir 'cd26-team1-vm1-seed.iso'
    if ([IO.Path]::GetDirectoryName([IO.Path]::GetFullPath($path)) -ne [IO.Path]::GetFullPath($dir)) {
      throw ('labctl: ' + $path + ' is outside ' + $dir)
    }
    if (Test-Path -LiteralPath $path) {
      Remove-Item -LiteralPath $path -Force
    }
  }
} catch {
  [Console]::Error.WriteLine('labctl-error-category: ' + $_.CategoryInfo.Category)
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
# labctl stop-vm cd26-team1-vm2
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
[Console]::OutputEncoding = [Text.Encoding]::UTF8
try {
  $vm = Get-VM -Name 'cd26-team1-vm2'
  if ($vm.State -ne 'Off') {
    Stop-VM -VM $vm -TurnOff -Force
  }
} catch {
  [Console]::Error.WriteLine('labctl-error-category: ' + $_.CategoryInfo.Category)
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
# labctl delete-vm cd26-team1-vm2
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
  $dir = [IO.Path]::GetFullPath('C:\ProgramData\labctl\cd26')
  $vm = Get-VM -Name 'cd26-team1-vm2' -ErrorAction SilentlyContinue
  if ($null -ne $vm) {
    if (-not (Test-LabctlTag $vm.Notes 'cd26')) {
      throw ('labctl: VM ' + $vm.Name + ' does not carry this classroom''s tag; not deleting it')
    }
    $disks = @(Get-VMHardDiskDrive -VM $vm | ForEach-Object { $_.Path })
    if ($vm.State -ne 'Off') {
      Stop-VM -VM $vm -TurnOff -Force
    }
    Remove-VM -VM $vm -Force
    foreach ($disk in $disks) {
      if ((Test-Path -LiteralPath $disk) -and [IO.Path]::GetDirectoryName([IO.Path]::GetFullPath($disk)) -eq $dir) {
        Remove-Item -LiteralPath $disk -Force
      }
    }
  }
} catch {
  [Console]::Error.WriteLine('labctl-error-category: ' + $_.CategoryInfo.Category)
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
# labctl delete-volume cd26-team1-vm2.qcow2
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
  if (Test-Path -LiteralPath $dir) {
    if (-not (Test-Path -LiteralPath $marker) -or -not (Test-LabctlTag (Get-Content -LiteralPath $marker -Raw) 'cd26')) {
      throw ('labctl: ' + $dir + ' is not this classroom''s labctl directory')
    }
    $path = Join-Path $dir 'cd26-team1-vm2.vhdx'
    if ([IO.Path]::GetDirectoryName([IO.Path]::GetFullPath($path)) -ne [IO.Path]::GetFullPath($dir)) {
      throw ('labctl: ' + $path + ' is outside ' + $dir)
    }
    if (Test-Path -LiteralPath $path) {
      Remove-Item -LiteralPath $path -Force
    }
  }
} catch {
  [Console]::Error.WriteLine('labctl-error-category: ' + $_.CategoryInfo.Category)
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
# labctl delete-volume cd26-team1-vm2-seed.iso
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
  if (Test-Path -LiteralPath $dir) {
    if (-not (Test-Path -LiteralPath $marker) -or -not (Test-LabctlTag (Get-Content -LiteralPath $marker -Raw) 'cd26')) {
      throw ('labctl: ' + $dir + ' is not this classroom''s labctl directory')
    }
    $path = Join-Path $dir 'cd26-team1-vm2-seed.iso'
    if ([IO.Path]::GetDirectoryName([IO.Path]::GetFullPath($path)) -ne [IO.Path]::GetFullPath($dir)) {
      throw ('labctl: ' + $path + ' is outside ' + $dir)
    }
    if (Test-Path -LiteralPath $path) {
      Remove-Item -LiteralPath $path -Force
    }
  }
} catch {
  [Console]::Error.WriteLine('labctl-error-category: ' + $_.CategoryInfo.Category)
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
# labctl delete-network cd26-team1-lan
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
  $name = 'cd26-team1-lan'
  $switch = Get-VMSwitch -Name $name -ErrorAction SilentlyContinue
  if ($null -ne $switch) {
    if (-not (Test-LabctlTag $switch.Notes $classroom)) {
      throw ('labctl: switch ' + $name + ' does not carry this classroom''s tag; not deleting it')
    }
    Remove-VMSwitch -Name $name -Force
  }
  $left = @(Get-VMSwitch -SwitchType Internal | Where-Object { Test-LabctlTag $_.Notes $classroom })
  if ($left.Count -eq 0) {
    Get-NetNat -Name 'cd26-nat' -ErrorAction SilentlyContinue | Remove-NetNat -Confirm:$false
  }
  $record = Join-Path 'C:\ProgramData\labctl' 'wsl-forwarding.txt'
  if (@(Get-VMSwitch -SwitchType Internal | Where-Object { [string]$_.Notes -clike 'labctl:v1 *' }).Count -eq 0 -and (Test-Path -LiteralPath $record)) {
    foreach ($alias in @(Get-Content -LiteralPath $record)) {
      Set-NetIPInterface -InterfaceAlias $alias -AddressFamily IPv4 -Forwarding Disabled -ErrorAction SilentlyContinue
    }
    Remove-Item -LiteralPath $record -Force
  }
  $routeRecord = Join-Path 'C:\ProgramData\labctl' 'wsl-route.txt'
  if (@(Get-VMSwitch -SwitchType Internal | Where-Object { [string]$_.Notes -clike 'labctl:v1 *' }).Count -eq 0 -and (Test-Path -LiteralPath $routeRecord)) {
    foreach ($prefix in @(Get-Content -LiteralPath $routeRecord)) {
      Get-NetRoute -DestinationPrefix $prefix -AddressFamily IPv4 -ErrorAction SilentlyContinue | Remove-NetRoute -Confirm:$false
    }
    Remove-Item -LiteralPath $routeRecord -Force
  }
} catch {
  [Console]::Error.WriteLine('labctl-error-category: ' + $_.CategoryInfo.Category)
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
# labctl delete-network cd26-team1-lab
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
  $name = 'cd26-team1-lab'
  $switch = Get-VMSwitch -Name $name -ErrorAction SilentlyContinue
  if ($null -ne $switch) {
    if (-not (Test-LabctlTag $switch.Notes $classroom)) {
      throw ('labctl: switch ' + $name + ' does not carry this classroom''s tag; not deleting it')
    }
    Remove-VMSwitch -Name $name -Force
  }
  $left = @(Get-VMSwitch -SwitchType Internal | Where-Object { Test-LabctlTag $_.Notes $classroom })
  if ($left.Count -eq 0) {
    Get-NetNat -Name 'cd26-nat' -ErrorAction SilentlyContinue | Remove-NetNat -Confirm:$false
  }
  $record = Join-Path 'C:\ProgramData\labctl' 'wsl-forwarding.txt'
  if (@(Get-VMSwitch -SwitchType Internal | Where-Object { [string]$_.Notes -clike 'labctl:v1 *' }).Count -eq 0 -and (Test-Path -LiteralPath $record)) {
    foreach ($alias in @(Get-Content -LiteralPath $record)) {
      Set-NetIPInterface -InterfaceAlias $alias -AddressFamily IPv4 -Forwarding Disabled -ErrorAction SilentlyContinue
    }
    Remove-Item -LiteralPath $record -Force
  }
  $routeRecord = Join-Path 'C:\ProgramData\labctl' 'wsl-route.txt'
  if (@(Get-VMSwitch -SwitchType Internal | Where-Object { [string]$_.Notes -clike 'labctl:v1 *' }).Count -eq 0 -and (Test-Path -LiteralPath $routeRecord)) {
    foreach ($prefix in @(Get-Content -LiteralPath $routeRecord)) {
      Get-NetRoute -DestinationPrefix $prefix -AddressFamily IPv4 -ErrorAction SilentlyContinue | Remove-NetRoute -Confirm:$false
    }
    Remove-Item -LiteralPath $routeRecord -Force
  }
} catch {
  [Console]::Error.WriteLine('labctl-error-category: ' + $_.CategoryInfo.Category)
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
# labctl delete-volume cd26-base.qcow2
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
  if (Test-Path -LiteralPath $dir) {
    if (-not (Test-Path -LiteralPath $marker) -or -not (Test-LabctlTag (Get-Content -LiteralPath $marker -Raw) 'cd26')) {
      throw ('labctl: ' + $dir + ' is not this classroom''s labctl directory')
    }
    $path = Join-Path $dir 'cd26-base.vhdx'
    if ([IO.Path]::GetDirectoryName([IO.Path]::GetFullPath($path)) -ne [IO.Path]::GetFullPath($dir)) {
      throw ('labctl: ' + $path + ' is outside ' + $dir)
    }
    if (Test-Path -LiteralPath $path) {
      Remove-Item -LiteralPath $path -Force
    }
  }
} catch {
  [Console]::Error.WriteLine('labctl-error-category: ' + $_.CategoryInfo.Category)
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
# labctl delete-pool cd26
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
  if (Test-Path -LiteralPath $dir) {
    if (-not (Test-Path -LiteralPath $marker) -or -not (Test-LabctlTag (Get-Content -LiteralPath $marker -Raw) 'cd26')) {
      throw ('labctl: ' + $dir + ' is not this classroom''s labctl directory')
    }
    Remove-Item -LiteralPath $dir -Recurse -Force
  }
} catch {
  [Console]::Error.WriteLine('labctl-error-category: ' + $_.CategoryInfo.Category)
  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } else { '' }
  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace '\s+', ' '))
  exit 1
}
