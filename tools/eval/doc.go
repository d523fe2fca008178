// Package eval scores an anomaly detector's output against labelled data,
// offline, the way the SKAB leaderboard does, so that vigil's numbers can be
// set beside published ones.
//
// It provides:
//   - point-wise counts ([Confusion]) and the SKAB summary figures derived
//     from them: F1 as SKAB defines it, false-alarm rate (FAR) and
//     missed-alarm rate (MAR) in percent;
//   - threshold-free ranking figures of a continuous anomaly score:
//     [ROCAUC] (the Mann-Whitney statistic) and [PRAUC] (average precision);
//   - [DetectionDelay], in samples, from the start of each labelled anomaly
//     to its first alarm;
//   - the NAB score exactly as SKAB's leaderboard computes it ([NAB],
//     [NABTotal]): scoring windows to the right of each labelled
//     changepoint, the first alarm in a window scored by a scaled sigmoid,
//     alarms outside windows penalised, three application profiles;
//   - Numenta's own NAB ([ScoreNumenta], [NumentaTotal]) on NAB-style
//     data: labelled windows from its combined_windows.json
//     ([ParseNumentaLabels]), a probationary period, per-row detections,
//     the profiles of its config/profiles.json.
//
// All functions work on whole, in-memory slices of one recording at a time
// and allocate freely; sum per-recording results ([Confusion.Add],
// [NABTotal], [NumentaTotal]) to score a benchmark. Scores are "higher is more anomalous";
// labels are 0 (normal) or 1 (anomalous).
//
// The package is not for the gateway's hot path, does not choose
// thresholds, train or run models, read files, or split data into
// training and test parts (see package dataset for reading recordings). It
// does not make a detector's numbers comparable with SKAB's unless the
// caller also follows SKAB's protocol: fit on the first 400 rows of each
// file, predict every later row, sum over files.
package eval
