package report

import (
	"bytes"
	"testing"
)

// TestGridFallsBack: a grid takes the first layout that fits: boxed,
// borderless, boxed with its prose wrapped, borderless with it wrapped,
// one record per row.
func TestGridFallsBack(t *testing.T) {
	g := func() *grid {
		return &grid{heads: []string{"id", "where", "note"}, wrap: []bool{false, false, true},
			rows: [][]string{{"c81f4e2a9b3d5f7061e2d4c6b8a09f13", "tm.log:17", "the map no longer reaches this slot"}}}
	}
	for _, tc := range []struct {
		width int
		want  string
	}{
		{0, `+----------------------------------+-----------+-------------------------------------+
|                id                |   where   |                note                 |
+----------------------------------+-----------+-------------------------------------+
| c81f4e2a9b3d5f7061e2d4c6b8a09f13 | tm.log:17 | the map no longer reaches this slot |
+----------------------------------+-----------+-------------------------------------+
`},
		{80, `id                                where      note
c81f4e2a9b3d5f7061e2d4c6b8a09f13  tm.log:17  the map no longer reaches this slot
`},
		{70, `+----------------------------------+-----------+---------------------+
|                id                |   where   |        note         |
+----------------------------------+-----------+---------------------+
| c81f4e2a9b3d5f7061e2d4c6b8a09f13 | tm.log:17 | the map no longer   |
|                                  |           | reaches this slot   |
+----------------------------------+-----------+---------------------+
`},
		{55, `id                                where      note
c81f4e2a9b3d5f7061e2d4c6b8a09f13  tm.log:17  the map no
                                             longer
                                             reaches
                                             this slot
`},
		{42, `- id c81f4e2a9b3d5f7061e2d4c6b8a09f13
  where tm.log:17
  note the map no longer reaches this slot
`},
		{40, `- id c81f4e2a9b3d5f7061e2d4c6b8a09f13
  where tm.log:17
  note the map no longer reaches this
    slot
`},
		{30, `- id
c81f4e2a9b3d5f7061e2d4c6b8a09f13
  where tm.log:17
  note the map no longer
    reaches this slot
`},
	} {
		var b bytes.Buffer
		if err := g().write(&b, tc.width); err != nil {
			t.Fatal(err)
		}
		if b.String() != tc.want {
			t.Errorf("width %d:\n%s\nwant\n%s", tc.width, b.String(), tc.want)
		}
	}
}
