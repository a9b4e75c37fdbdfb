package main

// `tgc-sync exec-shaped -- COMMAND [ARG...]`: the entry point compose gives an instance whose
// shaping the host agent sets up (targets/compose/render.ts). The agent writes
// /tgc-state/<instance> with the inode of the network namespace it shaped; this waits until the
// marker names this container's own namespace (after a restart, the old one's marker is stale),
// then runs COMMAND in its place. Not part of `tgc sync`'s usage: generated deployments use it.

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const stateDir = "/tgc-state"

// How long an instance waits for the agent before it gives up: the run's own deadline ends it first.
const shapedTimeout = 10 * time.Minute

func execShaped(args []string, stderr io.Writer, getenv func(string) string) int {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(stderr, "tgc-sync exec-shaped: say the command to run: exec-shaped -- COMMAND [ARG...]")
		return exitInvalid
	}
	instance := getenv("TGC_INSTANCE")
	if instance == "" {
		fmt.Fprintln(stderr, "tgc-sync exec-shaped: TGC_INSTANCE is not set (tgc sets it in every instance)")
		return exitEnvironment
	}
	var own syscall.Stat_t
	if err := syscall.Stat("/proc/self/ns/net", &own); err != nil {
		fmt.Fprintf(stderr, "tgc-sync exec-shaped: %s\n", err)
		return exitEnvironment
	}
	want := strconv.FormatUint(own.Ino, 10)
	deadline := time.Now().Add(shapedTimeout)
	changed := watchDir(stateDir)
	for {
		marker, err := os.ReadFile(stateDir + "/" + instance)
		if err == nil && strings.TrimSpace(string(marker)) == want {
			break
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(stderr, "tgc-sync exec-shaped: the shaping agent did not set up %s's network within %s "+
				"(see the agent's log: docker compose logs agent)\n", instance, shapedTimeout)
			return exitEnvironment
		}
		select {
		case <-changed:
		case <-time.After(lookEvery):
		}
	}
	path, err := exec.LookPath(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "tgc-sync exec-shaped: %s\n", err)
		return 127
	}
	err = syscall.Exec(path, args, os.Environ())
	fmt.Fprintf(stderr, "tgc-sync exec-shaped: cannot run %s: %s\n", args[0], err)
	return 126
}

// How often the marker is looked at without word of a change (inotify unavailable, or missed).
const lookEvery = 250 * time.Millisecond

// watchDir: a channel with a value after each file the agent writes into dir (its markers are
// renamed into place), through inotify — where a look every 20 ms by each waiting instance of a
// big run took a share of its machine's CPU; nil (never ready) when inotify is unavailable.
func watchDir(dir string) <-chan struct{} {
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC)
	if err != nil {
		return nil
	}
	if _, err := syscall.InotifyAddWatch(fd, dir, syscall.IN_MOVED_TO|syscall.IN_CLOSE_WRITE|syscall.IN_CREATE); err != nil {
		syscall.Close(fd)
		return nil
	}
	changed := make(chan struct{}, 1)
	go func() {
		buf := make([]byte, 4096)
		for {
			if n, err := syscall.Read(fd, buf); n <= 0 || err != nil {
				return
			}
			select {
			case changed <- struct{}{}:
			default:
			}
		}
	}()
	return changed
}
