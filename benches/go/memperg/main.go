// memperg: how much memory one parked goroutine costs, the Go side of benches/src/bin/mem-per-g.rs.
// N goroutines each block in a receive on one unbuffered channel; the growth of the resident set
// (VmRSS in /proc/self/status), divided by N, is printed in the same format as the Rust program.
//
// Usage: go run ./benches/go/memperg [N]   (N defaults to 1000000; GOMAXPROCS=1 to match)
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

func rssKiB() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		panic(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			v, err := strconv.ParseUint(strings.Fields(line)[1], 10, 64)
			if err != nil {
				panic(err)
			}
			return v
		}
	}
	panic("no VmRSS line")
}

func main() {
	n := 1000000
	if len(os.Args) > 1 {
		v, err := strconv.Atoi(os.Args[1])
		if err != nil || v <= 0 {
			fmt.Fprintln(os.Stderr, "memperg: N must be a positive number")
			os.Exit(2)
		}
		n = v
	}
	runtime.GC()
	before := rssKiB()
	ch := make(chan uint64)
	var parked int64
	for i := 0; i < n; i++ {
		go func() {
			atomic.AddInt64(&parked, 1)
			<-ch
		}()
	}
	for atomic.LoadInt64(&parked) < int64(n) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	after := rssKiB()
	close(ch)
	grown := after - before
	fmt.Printf("go %d parked: %d B per task (RSS +%d KiB)\n", n, grown*1024/uint64(n), grown)
}
