// Command keydesk-typingbench measures what a person typing in the key
// search waits for: the time from each keystroke to the swapped list, in
// Chromium, and the bytes each swap transfers. Point it at a running
// console with many keys:
//
//	go run ./cmd/keydesk seed --db demo.db --keys 100000
//	KEYDESK_ADMIN_PASSWORD=… go run ./cmd/keydesk --db demo.db &
//	go run ./cmd/keydesk-typingbench http://127.0.0.1:8080 admin PASSWORD
//
// It types 32 characters, one at a time, waiting for each answer; the
// debounce of the search is part of what it measures.
package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: keydesk-typingbench URL USERNAME PASSWORD")
		os.Exit(2)
	}
	url, user, pass := os.Args[1], os.Args[2], os.Args[3]
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.WindowSize(1440, 900))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses its sandbox as root
	}
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel2 := chromedp.NewContext(alloc)
	defer cancel2()
	must(chromedp.Do(ctx,
		chromedp.Navigate(url+"/login"),
		chromedp.SendKeys(chromedp.CSS(`[name=username]`), user),
		chromedp.SendKeys(chromedp.CSS(`[name=password]`), pass),
		chromedp.Submit(chromedp.CSS(`[name=password]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=whoami]`)),
		chromedp.Navigate(url+"/keys"),
		chromedp.WaitVisible(chromedp.CSS(`#key-search`)),
	))
	_, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`
		window.kd = {swaps: 0, down: 0, times: [], bytes: []};
		document.addEventListener('keydown', () => { kd.down = performance.now(); }, true);
		document.body.addEventListener('htmx:afterSettle', (e) => {
			kd.swaps++;
			if (kd.down) { kd.times.push(performance.now() - kd.down); kd.down = 0; }
			const r = performance.getEntriesByType('resource').filter(x => x.initiatorType === 'xmlhttprequest').pop();
			if (r) kd.bytes.push([r.transferSize, r.decodedBodySize]);
		});
	`))
	must(err)
	for _, word := range []string{"bill", "prod", "acme", "test", "apac", "stag", "eu-w", "ops-"} {
		for _, ch := range word {
			n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`kd.swaps`))
			must(chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`#key-search`), string(ch))))
			_, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(`kd.swaps > %d`, n), chromedp.WithPollingInterval(5*time.Millisecond)))
			must(err)
		}
		// clear, unmeasured
		n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`kd.swaps`))
		must(chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`#key-search`), kb.End+"\b\b\b\b")))
		chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(`kd.swaps > %d`, n), chromedp.WithPollingInterval(5*time.Millisecond)))
		chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`kd.times.pop(); kd.bytes.pop();`))
	}
	times, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`kd.times`))
	must(err)
	bytes, _ := chromedp.Run(ctx, chromedp.Evaluate[[][]float64](`kd.bytes`))
	slices.Sort(times)
	var tsum, dsum float64
	for _, b := range bytes {
		tsum += b[0]
		dsum += b[1]
	}
	fmt.Printf("keystrokes %d: median %.0f ms, p90 %.0f ms, min %.0f, max %.0f; per swap transferred %.1f KB (HTML %.1f KB)\n",
		len(times), times[len(times)/2], times[len(times)*9/10], times[0], times[len(times)-1], tsum/float64(len(bytes))/1024, dsum/float64(len(bytes))/1024)
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
