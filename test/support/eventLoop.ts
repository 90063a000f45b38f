// Whether other work gets turns of the event loop while something long runs (no timing: a count).

/** Counts turns of the event loop from now until `stop()`, which returns the count. */
export function countTurns(): { stop(): number } {
  let turns = 0;
  let counting = true;
  const tick = () => {
    if (!counting) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  return {
    stop() {
      counting = false;
      return turns;
    },
  };
}
