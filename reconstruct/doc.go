// Package reconstruct rebuilds what happened to slot allocations from parser
// events: each TaskManager's slot table replayed under the legacy (Flink ≤ 1.9,
// TaskSlotTable) and the fixed (Flink ≥ 1.10, TaskSlotTableImpl) semantics,
// and the divergences between the two.
//
// It does not judge what it rebuilds; that is package rules.
package reconstruct
