package parser

// BlockOfEvent is the number of the block that holds event ref (or the
// event it repeats), for measurements of how events are laid out.
func BlockOfEvent(r *Result, ref EventRef) int {
	k, _ := r.events.locate(int(r.BaseRef(ref)))
	return k
}
