/// Rules for chart names, checked before a name is used in a path.
public enum ChartName {
    /// Whether `name` is a single, safe path component: not empty, not `.` or `..`, and free of
    /// `/`, `\`, NUL and other control characters. (Helm rejects names that are not their own
    /// base name; chartsync also refuses backslashes and control characters.)
    public static func isValid(_ name: String) -> Bool {
        guard !name.isEmpty, name != ".", name != ".." else { return false }
        return name.unicodeScalars.allSatisfy { c in
            c != "/" && c != "\\" && c.value >= 0x20 && c.value != 0x7f
        }
    }
}

extension ChartName {
    /// Up to `limit` names of `candidates` close to `name` (a typo, another case, a prefix or a
    /// part of it), closest first: for "did you mean" hints.
    public static func nearest(to name: String, in candidates: [String], limit: Int = 3) -> [String] {
        let wanted = Array(name.lowercased().utf8)
        let allowed = max(2, wanted.count / 3)
        var scored: [(distance: Int, name: String)] = []
        for candidate in candidates where candidate != name {
            let other = Array(candidate.lowercased().utf8)
            var distance = editDistance(wanted, other)
            if distance > allowed, other.count >= 3, wanted.count >= 3,
               candidate.lowercased().contains(name.lowercased()) || name.lowercased().contains(candidate.lowercased()) {
                distance = allowed
            }
            if distance <= allowed { scored.append((distance, candidate)) }
        }
        return scored.sorted { ($0.distance, $0.name) < ($1.distance, $1.name) }.prefix(limit).map(\.name)
    }

    /// Levenshtein distance over bytes.
    static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
