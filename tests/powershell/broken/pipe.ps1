# labctl broken pipe
Get-VM | | Select-Object -First 1
