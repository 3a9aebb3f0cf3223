package jobs

import "testing"

// TestCatalogIsWhatRuns: the Settings panel lists Catalog, serve runs
// Standard; a job in one and not the other would run unseen or show
// without running.
func TestCatalogIsWhatRuns(t *testing.T) {
	st, _ := openStore(t)
	running := Standard(st, Deps{})
	if len(running) != len(Catalog) {
		t.Fatalf("%d jobs run, %d listed", len(running), len(Catalog))
	}
	for i, j := range running {
		if j.Info != Catalog[i] || j.Run == nil {
			t.Fatalf("job %d runs %q, the catalog lists %q", i, j.Info.Name, Catalog[i].Name)
		}
	}
}
