package main

// `tgc-sync plumb`: the shaping agent's per-instance set-up in one long-lived process
// (runtime/agent/plumber.ts). For each instance container that starts, the agent asks for its
// data path; this process enters the container's network namespace on one OS thread and there
// makes the TUN device `data0` (address, mask, up) and the coordinator's relay listener on
// 127.0.0.1, then carries the device's packets to and from the agent's wire over a loopback UDP
// socket, and each relayed connection to the agent's Unix socket. Before, each instance took a
// socat for the device, and sh, ip, nsenter and another socat for the relay — forked from the
// agent's Node process, whose forks cost more than all of them when every instance of a node
// starts at once. Not part of `tgc sync`'s usage: the agent runs it.
//
// Requests, one JSON object per line on stdin:
//   {"add":KEY,"netns":PATH,"ip":"198.18.0.5","prefix":16,"wire":PORT,"relay":SOCKET,"listen":5050}
//   {"remove":KEY}
// Answers on stdout: {"key":KEY,"port":UDP-PORT} once the device and the listener are in place,
// {"key":KEY,"error":"…"} when they cannot be; {"key":KEY,"gone":"…"} when a device's packets
// stop (its namespace went). The end of stdin ends the process, and every data path with it.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

type plumbRequest struct {
	Add    string `json:"add"`
	Remove string `json:"remove"`
	Netns  string `json:"netns"`
	IP     string `json:"ip"`
	Prefix int    `json:"prefix"`
	Wire   int    `json:"wire"`
	Relay  string `json:"relay"`
	Listen int    `json:"listen"`
}

type plumbAnswer struct {
	Key   string `json:"key"`
	Port  int    `json:"port,omitempty"`
	Error string `json:"error,omitempty"`
	Gone  string `json:"gone,omitempty"`
}

// One instance's data path.
type plumbing struct {
	tun      *os.File
	udp      *net.UDPConn
	listener net.Listener
	closing  atomic.Bool
}

func (p *plumbing) close() {
	p.closing.Store(true)
	p.listener.Close()
	p.udp.Close()
	p.tun.Close()
}

func plumb(stdin io.Reader, stdout io.Writer) int {
	var mu sync.Mutex // stdout's: the pumps report from their own goroutines
	enc := json.NewEncoder(stdout)
	say := func(a plumbAnswer) {
		mu.Lock()
		defer mu.Unlock()
		_ = enc.Encode(a)
	}
	paths := map[string]*plumbing{} // this loop's alone
	lines := bufio.NewScanner(stdin)
	lines.Buffer(make([]byte, 64<<10), 64<<10)
	for lines.Scan() {
		var req plumbRequest
		if err := json.Unmarshal(lines.Bytes(), &req); err != nil {
			fmt.Fprintf(os.Stderr, "tgc-sync plumb: not a request: %s\n", err)
			return exitInvalid
		}
		if req.Remove != "" {
			p := paths[req.Remove]
			delete(paths, req.Remove)
			if p != nil {
				p.close()
			}
			continue
		}
		p, port, err := plumbAdd(req)
		if err != nil {
			say(plumbAnswer{Key: req.Add, Error: err.Error()})
			continue
		}
		paths[req.Add] = p
		key := req.Add
		go pump(p, func(why string) { say(plumbAnswer{Key: key, Gone: why}) })
		go relay(p.listener, req.Relay)
		say(plumbAnswer{Key: key, Port: port})
	}
	return exitOK
}

// plumbAdd makes the device and the listener in the namespace, then the UDP socket here.
func plumbAdd(req plumbRequest) (*plumbing, int, error) {
	ip := net.ParseIP(req.IP).To4()
	if ip == nil || req.Prefix < 1 || req.Prefix > 32 || req.Wire <= 0 || req.Relay == "" || req.Listen <= 0 {
		return nil, 0, fmt.Errorf("add %s: needs netns, an IPv4 ip, prefix, wire, relay and listen", req.Add)
	}
	var tun *os.File
	var listener net.Listener
	err := inNamespace(req.Netns, func() error {
		var err error
		if tun, err = tunDevice("data0", ip, req.Prefix); err != nil {
			return err
		}
		listener, err = loopbackListener(req.Listen)
		return err
	})
	if err != nil {
		if tun != nil {
			tun.Close()
		}
		return nil, 0, fmt.Errorf("%s: %w", req.Netns, err)
	}
	udp, err := net.DialUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: req.Wire})
	if err != nil {
		tun.Close()
		listener.Close()
		return nil, 0, err
	}
	return &plumbing{tun: tun, udp: udp, listener: listener}, udp.LocalAddr().(*net.UDPAddr).Port, nil
}

// inNamespace runs fn on an OS thread in network namespace `netns`. A thread that cannot go back
// is not reused: it stays locked, and Go ends it with its goroutine.
func inNamespace(netns string, fn func() error) error {
	target, err := os.Open(netns)
	if err != nil {
		return err
	}
	defer target.Close()
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		own, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", syscall.Gettid()))
		if err != nil {
			done <- err
			return
		}
		defer own.Close()
		if err := setns(target.Fd()); err != nil {
			done <- fmt.Errorf("setns: %w", err)
			return
		}
		result := fn()
		if err := setns(own.Fd()); err != nil {
			done <- fmt.Errorf("back from setns: %w", err)
			return
		}
		runtime.UnlockOSThread()
		done <- result
	}()
	return <-done
}

// setns(2)'s number: Go's syscall package does not name it on every architecture.
var sysSetns = map[string]uintptr{"amd64": 308, "arm64": 268, "riscv64": 268, "386": 346, "arm": 375, "ppc64le": 350, "s390x": 339}

func setns(fd uintptr) error {
	nr, ok := sysSetns[runtime.GOARCH]
	if !ok {
		return fmt.Errorf("setns: not known on %s", runtime.GOARCH)
	}
	if _, _, errno := syscall.RawSyscall(nr, fd, syscall.CLONE_NEWNET, 0); errno != 0 {
		return errno
	}
	return nil
}

const (
	tunSetIff  = 0x400454ca
	iffTun     = 0x0001
	iffNoPi    = 0x1000
	ifNameSize = 16
)

// ifreq with a sockaddr_in or flags after the name (struct ifreq: 16 + 24 bytes).
type ifreq struct {
	name [ifNameSize]byte
	data [24]byte
}

func newIfreq(name string) *ifreq {
	r := &ifreq{}
	copy(r.name[:ifNameSize-1], name)
	return r
}

func (r *ifreq) setInet(addr net.IP) {
	*(*uint16)(unsafe.Pointer(&r.data[0])) = syscall.AF_INET
	copy(r.data[4:8], addr)
}

func ioctl(fd uintptr, req uintptr, r *ifreq) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, req, uintptr(unsafe.Pointer(r))); errno != 0 {
		return errno
	}
	return nil
}

// tunDevice makes TUN device `name` (no packet information) in this thread's namespace, with
// address ip/prefix, up. Its file is non-blocking: Go's poller serves it.
func tunDevice(name string, ip net.IP, prefix int) (*os.File, error) {
	fd, err := syscall.Open("/dev/net/tun", syscall.O_RDWR|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("/dev/net/tun: %w", err)
	}
	r := newIfreq(name)
	*(*uint16)(unsafe.Pointer(&r.data[0])) = iffTun | iffNoPi
	if err := ioctl(uintptr(fd), tunSetIff, r); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("TUNSETIFF %s: %w", name, err)
	}
	// A file for Go's poller once the device is attached: polled before, it is "not pollable".
	tun := os.NewFile(uintptr(fd), "tun")
	sock, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		tun.Close()
		return nil, err
	}
	defer syscall.Close(sock)
	addr := newIfreq(name)
	addr.setInet(ip)
	mask := newIfreq(name)
	mask.setInet(net.IP(net.CIDRMask(prefix, 32)))
	flags := newIfreq(name)
	steps := []struct {
		what string
		req  uintptr
		r    *ifreq
	}{
		{"address", syscall.SIOCSIFADDR, addr},
		{"netmask", syscall.SIOCSIFNETMASK, mask},
		{"flags", syscall.SIOCGIFFLAGS, flags},
	}
	for _, s := range steps {
		if err := ioctl(uintptr(sock), s.req, s.r); err != nil {
			tun.Close()
			return nil, fmt.Errorf("%s of %s: %w", s.what, name, err)
		}
	}
	*(*uint16)(unsafe.Pointer(&flags.data[0])) |= syscall.IFF_UP
	if err := ioctl(uintptr(sock), syscall.SIOCSIFFLAGS, flags); err != nil {
		tun.Close()
		return nil, fmt.Errorf("up %s: %w", name, err)
	}
	return tun, nil
}

// loopbackListener listens on 127.0.0.1:port in this thread's namespace (the socket is made here
// by hand: Go's own listen may run on another thread).
func loopbackListener(port int) (net.Listener, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC|syscall.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	file := os.NewFile(uintptr(fd), "relay")
	defer file.Close()
	_ = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return nil, fmt.Errorf("relay on 127.0.0.1:%d: %w", port, err)
	}
	if err := syscall.Listen(fd, 128); err != nil {
		return nil, err
	}
	return net.FileListener(file)
}

// pump carries packets both ways between the device and the wire until either fails.
func pump(p *plumbing, gone func(string)) {
	var once sync.Once
	end := func(err error) {
		once.Do(func() {
			if !p.closing.Load() {
				gone(err.Error())
			}
		})
	}
	go func() {
		buf := make([]byte, 65536)
		for {
			n, err := p.udp.Read(buf)
			if err == nil {
				_, err = p.tun.Write(buf[:n])
			}
			// A packet the device refuses (malformed) is dropped, as a kernel would; so is one
			// the wire's port refused a moment (ECONNREFUSED, reported on the next read).
			if err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ECONNREFUSED) {
				end(err)
				return
			}
		}
	}()
	buf := make([]byte, 65536)
	for {
		n, err := p.tun.Read(buf)
		if err == nil {
			_, err = p.udp.Write(buf[:n])
		}
		// Nobody at the wire's port for a moment (ECONNREFUSED): the packet is lost, as on a link.
		if err != nil && !errors.Is(err, syscall.ECONNREFUSED) {
			end(err)
			return
		}
	}
}

// relay carries each connection to the listener to the agent's Unix socket, both ways.
func relay(listener net.Listener, socket string) {
	for {
		inside, err := listener.Accept()
		if err != nil {
			return
		}
		go func() {
			defer inside.Close()
			outside, err := net.Dial("unix", socket)
			if err != nil {
				return
			}
			defer outside.Close()
			done := make(chan struct{}, 2)
			carry := func(to, from net.Conn) {
				_, _ = io.Copy(to, from)
				if c, ok := to.(interface{ CloseWrite() error }); ok {
					_ = c.CloseWrite()
				}
				done <- struct{}{}
			}
			go carry(outside, inside)
			go carry(inside, outside)
			<-done
			<-done
		}()
	}
}
