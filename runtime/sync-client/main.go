// tgc-sync: `tgc sync …` as one static executable, for instances whose image has no Node.js (a Go
// or Rust node, a distroless image). It speaks the coordinator's JSON-lines protocol
// (docs/protocol.md) with the `attach` role, exactly as cli/sync/sync-main.ts does: the same
// subcommands, output and exit codes (test/unit/sync-cli.test.ts runs both against one
// coordinator). Standard library only; built by scripts/build.mjs with CGO_ENABLED=0, so the
// pure-Go resolver reads /etc/hosts and resolv.conf itself and no C library is needed.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Kept equal to SYNC_USAGE in cli/sync/sync-main.ts (a test compares them).
const usage = `Usage: tgc sync <command> [arguments]  (inside an instance: tgc sets what it needs)

  signal STATE                     signal STATE; prints its count
  barrier STATE [TARGET]           wait until STATE has TARGET signals (default: every instance)
  signal-wait STATE [TARGET]       both; prints the count after this signal
  publish TOPIC JSON               append JSON to TOPIC; prints its sequence number
  subscribe TOPIC --take N         prints TOPIC's first N messages, one JSON per line
  wait-network                     wait until this instance's network is shaped
  configure SHAPE-JSON [--callback STATE] [--to NAME]
                                   change this instance's egress shape, e.g. '{"latency":"100ms"}';
                                   --to: only towards that instance or group
  record NAME VALUE [UNIT]         record a metric value
  message TEXT                     a message kept with this instance's results
  outcome success|failure [REASON] report this instance's outcome

Exit codes: 0 done · 1 the run has ended · 2 usage, or the coordinator refused · 3 no coordinator.`

// The exit codes of model/exit-codes.ts.
const (
	exitOK          = 0
	exitRunEnded    = 1
	exitInvalid     = 2
	exitEnvironment = 3
)

// Every frame is at most 1 MiB before its newline (docs/protocol.md, Framing).
const maxFrame = 1 << 20

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// coordinatorError is an error reply; code "closed" means the connection ended.
type coordinatorError struct{ code, msg string }

func (e coordinatorError) Error() string { return e.msg }

type frame map[string]json.RawMessage

func (f frame) str(key string) string {
	var s string
	_ = json.Unmarshal(f[key], &s)
	return s
}

type client struct {
	conn   net.Conn
	reader *bufio.Reader
	nextID int
	// onEvent gets every frame that is not a reply (subscribe's messages).
	onEvent func(frame)
}

func dial(address string, timeout time.Duration) (*client, error) {
	deadline := time.Now().Add(timeout)
	for {
		conn, err := net.DialTimeout("tcp", address, 2*time.Second)
		if err == nil {
			return &client{conn: conn, reader: bufio.NewReaderSize(conn, 64<<10), nextID: 1}, nil
		}
		if time.Now().Add(200 * time.Millisecond).After(deadline) {
			return nil, fmt.Errorf("cannot reach the coordinator at %s: %v", address, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (c *client) readFrame() (frame, error) {
	var line []byte
	for {
		chunk, err := c.reader.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxFrame+2 {
			return nil, coordinatorError{"frame_too_large", "the coordinator sent a frame over 1 MiB"}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
				return nil, coordinatorError{"closed", "the connection to the coordinator closed"}
			}
			return nil, coordinatorError{"closed", err.Error()}
		}
		break
	}
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return c.readFrame()
	}
	var f frame
	if err := json.Unmarshal(line, &f); err != nil {
		return nil, coordinatorError{"bad_json", "the coordinator sent a line that is not a JSON object"}
	}
	return f, nil
}

// request sends one numbered request and reads frames until its reply, handing events on.
func (c *client) request(kind string, fields map[string]interface{}) (frame, error) {
	id := c.nextID
	c.nextID++
	body := map[string]interface{}{"type": kind, "id": id}
	for k, v := range fields {
		body[k] = v
	}
	data, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	if _, err := c.conn.Write(append(data, '\n')); err != nil {
		return nil, coordinatorError{"closed", "the connection to the coordinator closed"}
	}
	for {
		f, err := c.readFrame()
		if err != nil {
			return nil, err
		}
		re, isReply := f["re"]
		if !isReply {
			if c.onEvent != nil {
				c.onEvent(f)
			}
			continue
		}
		if n, err := strconv.Atoi(string(re)); err != nil || n != id {
			continue
		}
		if raw, failed := f["error"]; failed && string(raw) != "null" {
			var e struct{ Code, Message string }
			_ = json.Unmarshal(raw, &e)
			return nil, coordinatorError{e.Code, e.Message}
		}
		return f, nil
	}
}

// step is one subcommand: what it asks of the coordinator and what it prints.
type step func(c *client, instances int) (string, error)

var wholeNumber = regexp.MustCompile(`^[0-9]+$`)

func count(text *string, what string) (int, bool, error) {
	if text == nil {
		return 0, false, nil
	}
	n, err := strconv.Atoi(*text)
	if !wholeNumber.MatchString(*text) || err != nil {
		return 0, false, usageError{fmt.Sprintf("%s must be a whole number, not %s", what, *text)}
	}
	return n, true, nil
}

func parseJSON(text *string, what string) (json.RawMessage, error) {
	if text == nil {
		return nil, usageError{what + " is missing"}
	}
	var buf bytes.Buffer
	if !json.Valid([]byte(*text)) || json.Compact(&buf, []byte(*text)) != nil {
		return nil, usageError{fmt.Sprintf("%s is not JSON: %s", what, *text)}
	}
	return json.RawMessage(buf.Bytes()), nil
}

func number(raw json.RawMessage) string {
	return strings.TrimSpace(string(raw))
}

func plan(args []string) (step, error) {
	arg := func(i int) *string {
		if i < len(args) {
			return &args[i]
		}
		return nil
	}
	cmd := ""
	if len(args) > 0 {
		cmd = args[0]
	}
	a, b, c := arg(1), arg(2), arg(3)
	need := func(v *string, what string) (string, error) {
		if v == nil || *v == "" {
			return "", usageError{fmt.Sprintf("%s: %s is missing", cmd, what)}
		}
		return *v, nil
	}
	switch cmd {
	case "signal":
		state, err := need(a, "STATE")
		if err != nil {
			return nil, err
		}
		return func(cl *client, _ int) (string, error) {
			r, err := cl.request("signal", map[string]interface{}{"state": state})
			return number(r["count"]), err
		}, nil
	case "barrier", "signal-wait":
		state, err := need(a, "STATE")
		if err != nil {
			return nil, err
		}
		target, given, err := count(b, "TARGET")
		if err != nil {
			return nil, err
		}
		return func(cl *client, instances int) (string, error) {
			out := ""
			if cmd == "signal-wait" {
				r, err := cl.request("signal", map[string]interface{}{"state": state})
				if err != nil {
					return "", err
				}
				out = number(r["count"])
			}
			if !given {
				target = instances
			}
			_, err := cl.request("barrier", map[string]interface{}{"state": state, "target": target})
			return out, err
		}, nil
	case "publish":
		topic, err := need(a, "TOPIC")
		if err != nil {
			return nil, err
		}
		payload, err := parseJSON(b, "publish: JSON")
		if err != nil {
			return nil, err
		}
		return func(cl *client, _ int) (string, error) {
			r, err := cl.request("publish", map[string]interface{}{"topic": topic, "payload": payload})
			return number(r["seq"]), err
		}, nil
	case "subscribe":
		topic, err := need(a, "TOPIC")
		if err != nil {
			return nil, err
		}
		if b == nil || *b != "--take" {
			return nil, usageError{"subscribe: give --take N"}
		}
		take, _, err := count(c, "--take N")
		if err != nil {
			return nil, err
		}
		return func(cl *client, _ int) (string, error) {
			var got []string
			if take == 0 {
				return "", nil
			}
			cl.onEvent = func(f frame) {
				if f.str("event") == "message" && f.str("topic") == topic {
					var buf bytes.Buffer
					_ = json.Compact(&buf, f["payload"])
					got = append(got, buf.String())
				}
			}
			if _, err := cl.request("subscribe", map[string]interface{}{"topic": topic}); err != nil {
				return "", err
			}
			for len(got) < take {
				f, err := cl.readFrame()
				if err != nil {
					return "", err
				}
				cl.onEvent(f)
			}
			return strings.Join(got[:take], "\n"), nil
		}, nil
	case "wait-network":
		return func(cl *client, _ int) (string, error) {
			_, err := cl.request("network_wait_ready", nil)
			return "", err
		}, nil
	case "configure":
		shape, err := parseJSON(a, "configure: SHAPE-JSON")
		if err != nil {
			return nil, err
		}
		fields := map[string]interface{}{"shape": shape}
		for i := 2; i < len(args); i += 2 {
			value := arg(i + 1)
			if (args[i] != "--callback" && args[i] != "--to") || value == nil || *value == "" {
				return nil, usageError{"configure: the options are --callback STATE and --to NAME"}
			}
			if args[i] == "--to" {
				fields["to"] = *value
			} else {
				fields["callback_state"] = *value
			}
		}
		return func(cl *client, _ int) (string, error) {
			_, err := cl.request("network_configure", fields)
			return "", err
		}, nil
	case "record":
		name, err := need(a, "NAME")
		if err != nil {
			return nil, err
		}
		text, err := need(b, "VALUE")
		if err != nil {
			return nil, err
		}
		value, perr := strconv.ParseFloat(strings.TrimSpace(text), 64)
		if perr != nil || value != value || value > 1.7976931348623157e308 || value < -1.7976931348623157e308 {
			return nil, usageError{fmt.Sprintf("record: VALUE must be a number, not %s", text)}
		}
		unit := ""
		if c != nil {
			unit = *c
		}
		return func(cl *client, _ int) (string, error) {
			_, err := cl.request("record", map[string]interface{}{"name": name, "value": value, "unit": unit})
			return "", err
		}, nil
	case "message":
		text, err := need(a, "TEXT")
		if err != nil {
			return nil, err
		}
		return func(cl *client, _ int) (string, error) {
			_, err := cl.request("message", map[string]interface{}{"text": text})
			return "", err
		}, nil
	case "outcome":
		if a == nil || (*a != "success" && *a != "failure") {
			return nil, usageError{"outcome: success or failure"}
		}
		return func(cl *client, _ int) (string, error) {
			fields := map[string]interface{}{"status": *a}
			if b != nil {
				fields["reason"] = *b
			}
			_, err := cl.request("outcome", fields)
			return "", err
		}, nil
	case "":
		return nil, usageError{"a command is missing"}
	default:
		return nil, usageError{fmt.Sprintf("unknown command \"%s\"", cmd)}
	}
}

func run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) > 0 && args[0] == "sync" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return exitInvalid
	}
	if args[0] == "--help" || args[0] == "-h" {
		fmt.Fprintln(stdout, usage)
		return exitOK
	}
	todo, err := plan(args)
	if err != nil {
		fmt.Fprintf(stderr, "tgc sync: %s\n\n%s\n", err, usage)
		return exitInvalid
	}
	address := getenv("TGC_COORDINATOR")
	if address == "" && getenv("SYNC_SERVICE_HOST") != "" {
		port := getenv("SYNC_SERVICE_PORT")
		if port == "" {
			port = "5050"
		}
		address = net.JoinHostPort(getenv("SYNC_SERVICE_HOST"), port)
	}
	instance, group := getenv("TGC_INSTANCE"), getenv("TGC_GROUP")
	if address == "" || instance == "" || group == "" {
		fmt.Fprintln(stderr, "tgc sync: run it inside an instance: TGC_COORDINATOR, TGC_INSTANCE and TGC_GROUP are not all set")
		return exitEnvironment
	}
	if _, _, err := net.SplitHostPort(address); err != nil {
		fmt.Fprintf(stderr, "tgc sync: coordinator address %q is not host:port\n", address)
		return exitEnvironment
	}
	cl, err := dial(address, 10*time.Second)
	if err != nil {
		fmt.Fprintf(stderr, "tgc sync: %s\n", err)
		return exitEnvironment
	}
	defer cl.conn.Close()
	register := map[string]interface{}{"role": "attach", "instance": instance, "group": group}
	if ip := getenv("TGC_DATA_IP"); ip != "" {
		register["data_ip"] = ip
	}
	identity, err := cl.request("register", register)
	if err == nil {
		var instances int
		_ = json.Unmarshal(identity["instances"], &instances)
		var out string
		if out, err = todo(cl, instances); err == nil {
			if out != "" {
				fmt.Fprintln(stdout, out)
			}
			return exitOK
		}
	}
	fmt.Fprintf(stderr, "tgc sync: %s\n", err)
	var ce coordinatorError
	if errors.As(err, &ce) {
		switch ce.code {
		case "run_ended":
			return exitRunEnded
		case "closed":
			return exitEnvironment
		}
	}
	return exitInvalid
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "exec-shaped" {
		os.Exit(execShaped(os.Args[2:], os.Stderr, os.Getenv))
	}
	if len(os.Args) > 1 && os.Args[1] == "plumb" {
		os.Exit(plumb(os.Stdin, os.Stdout))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}
