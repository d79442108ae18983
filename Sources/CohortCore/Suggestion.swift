/// ` (did you mean "realign"?)` when `word` is a likely typo of a candidate, else "".
func suggestion(for word: String, among candidates: [String]) -> String {
    let limit = max(2, word.count / 3)
    let best = candidates
        .map { (candidate: $0, distance: editDistance(word, $0, limit: limit + 1)) }
        .filter { $0.distance <= limit }
        .min { $0.distance < $1.distance }
    return best.map { " (did you mean \(quoted($0.candidate))?)" } ?? ""
}

/// Levenshtein distance, giving up (returning `limit`) once it must exceed it.
func editDistance(_ a: String, _ b: String, limit: Int) -> Int {
    let a = Array(a.unicodeScalars.prefix(64)), b = Array(b.unicodeScalars.prefix(64))
    if abs(a.count - b.count) >= limit { return limit }
    var previous = Array(0...b.count)
    for i in 1...max(1, a.count) where !a.isEmpty {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in stride(from: 1, through: b.count, by: 1) {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
        }
        if current.min() ?? 0 >= limit { return limit }
        previous = current
    }
    return min(previous[b.count], limit)
}
