// How far a mediation case has got: the furthest stage any of its events reached, whatever
// order they replicated in (the same fold as models/case_state.py, reduced to the stage).
export const STAGES = ['new', 'contacted', 'mediator_assigned', 'session_held', 'failed', 'referred',
                       'agreement_reached'];

/** The stage code of a case from its events. */
export function caseStage(events) {
  let rank = 0;
  for (const event of events) rank = Math.max(rank, STAGES.indexOf(event.kind));
  return STAGES[rank];
}
