# labctl broken quote
$name = 'cd26''s
Get-VM -Name $name
