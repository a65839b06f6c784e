import fc from 'fast-check';

// Under mutation testing every property runs once per mutant it covers: a mutant is killed by the first
// counterexample, which fast-check finds in the first few dozen runs of a broken rule, so the default 100
// runs per property only multiply the time. `npm test` keeps the full count.
fc.configureGlobal({ numRuns: 25 });
