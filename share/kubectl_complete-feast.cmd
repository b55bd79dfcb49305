@echo off
rem Shell completion for `kubectl feast` on Windows: kubectl (1.26 or later) runs
rem kubectl_complete-feast from PATH with the words typed after `kubectl feast`. No prompt, no noise.
if exist "%~dp0kubectl-feast.exe" (
  "%~dp0kubectl-feast.exe" __complete -- %* <NUL 2>NUL
) else (
  kubectl-feast.exe __complete -- %* <NUL 2>NUL
)
