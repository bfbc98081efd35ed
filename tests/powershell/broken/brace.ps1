# labctl broken brace
try {
  if ($x) {
    Get-VM
} catch {
  exit 1
}
