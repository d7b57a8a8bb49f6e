// chanshapes: Go's channels on the workloads of gort's `chan_shapes` bench bin
// (benches/src/bin/chan_shapes.rs), shape for shape and message for message, so that
// scripts/bench_chan_go.sh can time the two side by side.
//
// Run: GOMAXPROCS=2 go run . [shape cap]   (no arguments: every shape at caps 0, 1, 1000)
// Prints one line per run: `<shape> <cap> <seconds>`.
//
// Shapes (N = 1 000 000 messages, T = 4):
//
//	seq          one G sends N values into a channel of capacity N, then receives them (cap ignored)
//	spsc         one sender, one receiver
//	mpsc         T senders (N/T each), one receiver
//	mpmc         T senders (N/T each), T receivers (N/T each)
//	select_rx    T senders, each on its own channel; one receiver selecting over the T channels
//	select_both  T senders and T receivers over T channels, every operation a T-way select
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

const (
	n = 1_000_000
	t = 4
)

func seq(_ int) {
	c := make(chan int, n)
	for i := 0; i < n; i++ {
		c <- i
	}
	for i := 0; i < n; i++ {
		<-c
	}
}

// senders start `gs` Gs, each sending `per` values on c.
func senders(wg *sync.WaitGroup, c chan int, gs, per int) {
	for s := 0; s < gs; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				c <- i
			}
		}()
	}
}

// receivers start `gs` Gs, each receiving `per` values from c.
func receivers(wg *sync.WaitGroup, c chan int, gs, per int) {
	for r := 0; r < gs; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				<-c
			}
		}()
	}
}

func pipe(cap, s, r int) {
	c := make(chan int, cap)
	var wg sync.WaitGroup
	senders(&wg, c, s, n/s)
	receivers(&wg, c, r, n/r)
	wg.Wait()
}

func spsc(cap int) { pipe(cap, 1, 1) }
func mpsc(cap int) { pipe(cap, t, 1) }
func mpmc(cap int) { pipe(cap, t, t) }

func selectRx(cap int) {
	var cs [t]chan int
	var wg sync.WaitGroup
	for i := range cs {
		cs[i] = make(chan int, cap)
		senders(&wg, cs[i], 1, n/t)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < n; i++ {
			select {
			case <-cs[0]:
			case <-cs[1]:
			case <-cs[2]:
			case <-cs[3]:
			}
		}
	}()
	wg.Wait()
}

func selectBoth(cap int) {
	var cs [t]chan int
	for i := range cs {
		cs[i] = make(chan int, cap)
	}
	var wg sync.WaitGroup
	for s := 0; s < t; s++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < n/t; i++ {
				select {
				case cs[0] <- i:
				case cs[1] <- i:
				case cs[2] <- i:
				case cs[3] <- i:
				}
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < n/t; i++ {
				select {
				case <-cs[0]:
				case <-cs[1]:
				case <-cs[2]:
				case <-cs[3]:
				}
			}
		}()
	}
	wg.Wait()
}

var shapes = []struct {
	name string
	run  func(int)
}{
	{"seq", seq},
	{"spsc", spsc},
	{"mpsc", mpsc},
	{"mpmc", mpmc},
	{"select_rx", selectRx},
	{"select_both", selectBoth},
}

func main() {
	only, onlyCap := "", -1
	if len(os.Args) == 3 {
		only = os.Args[1]
		c, err := strconv.Atoi(os.Args[2])
		if err != nil || c < 0 {
			fmt.Fprintln(os.Stderr, "usage: chanshapes [shape cap]")
			os.Exit(2)
		}
		onlyCap = c
	} else if len(os.Args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: chanshapes [shape cap]")
		os.Exit(2)
	}
	found := false
	for _, s := range shapes {
		caps := []int{0, 1, 1000}
		if s.name == "seq" {
			caps = []int{n}
		}
		for _, c := range caps {
			if only != "" && (s.name != only || (c != onlyCap && s.name != "seq")) {
				continue
			}
			found = true
			start := time.Now()
			s.run(c)
			fmt.Printf("%s %d %.6f\n", s.name, c, time.Since(start).Seconds())
		}
	}
	if !found {
		fmt.Fprintln(os.Stderr, "chanshapes: unknown shape or cap")
		os.Exit(2)
	}
}
