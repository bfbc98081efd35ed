# labctl broken paren
$x = @(Get-VM | Where-Object { $_.Name -eq 'a' }
ConvertTo-Json $x
