package redisstore_test

import "syscall"

// setDeathSignal makes the kernel kill the child if the test binary dies
// before its cleanups run.
func setDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
