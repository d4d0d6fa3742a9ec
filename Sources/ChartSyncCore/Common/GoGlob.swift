/// Go's `path/filepath.Match` on a Unix system, the glob language of `.helmignore`: `*` matches
/// any run of characters other than `/`, `?` one character other than `/`, `[...]` a class
/// (`[^...]` negated, `a-z` ranges), `\` escapes the next character. The whole name must match.
/// Ported rule for rule so that a pattern matches (or is malformed) exactly where Go says so.
public enum GoGlob {
    /// Whether `name` matches `pattern`; nil when the pattern is malformed (Go's `ErrBadPattern`).
    /// As in Go, a malformation after the point where matching failed may go unnoticed.
    public static func match(_ pattern: String, _ name: String) -> Bool? {
        var pattern = Substring(pattern).unicodeScalars
        var name = Substring(name).unicodeScalars
        nextChunk: while !pattern.isEmpty {
            let (star, chunk, rest) = scanChunk(pattern)
            pattern = rest
            if star && chunk.isEmpty {
                // A trailing * matches the rest unless it holds a separator.
                return !name.contains("/")
            }
            let here = matchChunk(chunk, name)
            if case .matched(let left) = here, left.isEmpty || !pattern.isEmpty {
                name = left
                continue
            }
            if case .malformed = here { return nil }
            if star {
                // Try the chunk after skipping 1, 2, ... characters (never a separator).
                var skip = name.startIndex
                while skip < name.endIndex && name[skip] != "/" {
                    skip = name.index(after: skip)
                    switch matchChunk(chunk, name[skip...]) {
                    case .matched(let left):
                        if pattern.isEmpty && !left.isEmpty { continue }
                        name = left
                        continue nextChunk
                    case .malformed: return nil
                    case .failed: break
                    }
                }
            }
            // No match: still report a malformed remainder, as Go does.
            while !pattern.isEmpty {
                let (_, chunk, rest) = scanChunk(pattern)
                pattern = rest
                if case .malformed = matchChunk(chunk, Substring.UnicodeScalarView()) { return nil }
            }
            return false
        }
        return name.isEmpty
    }

    private typealias Scalars = Substring.UnicodeScalarView

    /// Leading stars, then the chunk up to the next star outside a class.
    private static func scanChunk(_ pattern: Scalars) -> (star: Bool, chunk: Scalars, rest: Scalars) {
        var pattern = pattern
        var star = false
        while pattern.first == "*" {
            pattern.removeFirst()
            star = true
        }
        var inRange = false
        var i = pattern.startIndex
        scan: while i < pattern.endIndex {
            switch pattern[i] {
            case "\\":
                // A trailing backslash is reported by matchChunk.
                if pattern.index(after: i) < pattern.endIndex { i = pattern.index(after: i) }
            case "[": inRange = true
            case "]": inRange = false
            case "*": if !inRange { break scan }
            default: break
            }
            i = pattern.index(after: i)
        }
        return (star, pattern[..<i], pattern[i...])
    }

    private enum ChunkResult {
        case matched(Scalars)
        case failed
        case malformed
    }

    /// Matches `chunk` (no stars) at the start of `s`; after a failure the rest of the chunk is
    /// still parsed so that a malformed chunk is reported.
    private static func matchChunk(_ chunk: Scalars, _ s: Scalars) -> ChunkResult {
        var chunk = chunk
        var s = s
        var failed = false
        while let c = chunk.first {
            if !failed && s.isEmpty { failed = true }
            switch c {
            case "[":
                var r: Unicode.Scalar = "\0"
                if !failed { r = s.removeFirst() }
                chunk.removeFirst()
                var negated = false
                if chunk.first == "^" {
                    negated = true
                    chunk.removeFirst()
                }
                var matched = false
                var ranges = 0
                while true {
                    if chunk.first == "]" && ranges > 0 {
                        chunk.removeFirst()
                        break
                    }
                    guard let lo = escaped(&chunk) else { return .malformed }
                    var hi = lo
                    if chunk.first == "-" {
                        chunk.removeFirst()
                        guard let high = escaped(&chunk) else { return .malformed }
                        hi = high
                    }
                    if lo <= r && r <= hi { matched = true }
                    ranges += 1
                }
                if matched == negated { failed = true }
            case "?":
                if !failed {
                    if s.first == "/" { failed = true }
                    s.removeFirst()
                }
                chunk.removeFirst()
            default:
                if c == "\\" {
                    chunk.removeFirst()
                    if chunk.isEmpty { return .malformed }
                }
                if !failed {
                    if chunk.first != s.first { failed = true }
                    s.removeFirst()
                }
                chunk.removeFirst()
            }
        }
        return failed ? .failed : .matched(s)
    }

    /// One possibly escaped character of a class; nil when the class is malformed there
    /// (empty, a bare `-` or `]`, a trailing `\`, or nothing after it).
    private static func escaped(_ chunk: inout Scalars) -> Unicode.Scalar? {
        guard let first = chunk.first, first != "-", first != "]" else { return nil }
        if first == "\\" {
            chunk.removeFirst()
            guard !chunk.isEmpty else { return nil }
        }
        let r = chunk.removeFirst()
        return chunk.isEmpty ? nil : r
    }
}
