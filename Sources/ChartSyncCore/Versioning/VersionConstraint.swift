// Version constraints as Helm reads them: a port of the constraint half of Masterminds/semver v3
// (`NewConstraint`, `Constraints.Check`) with its default settings.
//
// The library parses with regular expressions; this file reproduces what they accept by hand:
//   range rewrite  \s*(CV)\s+-\s+(CV)\s*            found anywhere, left to right
//   OR split       strings.Split(text, "||")
//   AND group      ^\s*OP\s*CV\s*((\s+|,\s*)OP\s*CV\s*)*$
//   OP             = | "" | != | > | < | >= | => | <= | =< | ~ | ~> | ^   (tried in that order)
//   CV             v?SEG(.SEG)?(.SEG)?(-IDS)?(+IDS)?  with SEG = [0-9xX*|]+
// Go's `\s` is [\t\n\f\r ].

/// Why a text is not a version constraint.
public struct VersionConstraintError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The constraint text, as given.
    public let text: String
    /// What is wrong with it, e.g. `"a1" is not a valid version`.
    public let reason: String

    /// Creates an error saying why `text` is not a constraint.
    public init(text: String, reason: String) {
        self.text = text
        self.reason = reason
    }

    /// A one-line message such as `invalid version constraint ">a1": "a1" is not a valid version`.
    public var description: String { "invalid version constraint \(SemverText.quoted(text)): \(reason)" }
}

/// A Helm version constraint (Masterminds/semver v3 NewConstraint semantics).
///
/// `||` separates alternatives; inside one, comparators separated by spaces or a comma must all
/// hold. A prerelease version only satisfies an alternative in which some comparator names a
/// prerelease (e.g. `>=1.0.0-0`), unless `includePrerelease` is asked for.
public struct VersionConstraint: Sendable, CustomStringConvertible {
    /// The constraint text, as given.
    public let text: String
    /// The OR alternatives, each a list of comparators that must all hold.
    let groups: [[Comparator]]
    /// For each alternative, whether one of its comparators has a prerelease.
    let groupHasPrerelease: [Bool]

    /// The constraint `*`: every release version (what Helm uses when no version is asked for).
    public static let any: VersionConstraint = {
        do {
            return try VersionConstraint(parsing: "*")
        } catch {
            preconditionFailure("\"*\" is a valid constraint: \(error)")
        }
    }()

    /// Parses `text` as Masterminds `NewConstraint` does; the empty string is an error (Helm substitutes `*`).
    public init(parsing text: String) throws(VersionConstraintError) {
        func fail(_ reason: String) -> VersionConstraintError {
            VersionConstraintError(text: text, reason: reason)
        }
        let original = Array(text.utf8)
        if original.allSatisfy(isSpace) {
            throw fail(original.isEmpty ? "the constraint is empty" : "the constraint is blank")
        }
        let rewritten = rewriteHyphenRanges(original)
        let alternatives = splitAlternatives(rewritten)
        var groups: [[Comparator]] = []
        var groupHasPrerelease: [Bool] = []
        for alternative in alternatives {
            let atoms: [Atom]
            switch scanGroup(alternative) {
            case .success(let found): atoms = found
            case .failure(let problem):
                let blank = alternative.allSatisfy(isSpace)
                let context = alternatives.count > 1 && !blank
                    ? " (in alternative \(SemverText.quoted(SemverText.string(alternative))))" : ""
                throw fail(problem.reason + context)
            }
            var group: [Comparator] = []
            for atom in atoms {
                switch Comparator.make(atom, in: alternative) {
                case .success(let comparator): group.append(comparator)
                case .failure(let problem): throw fail(problem.reason)
                }
            }
            groups.append(group)
            groupHasPrerelease.append(group.contains { $0.version.isPrerelease })
        }
        self.text = text
        self.groups = groups
        self.groupHasPrerelease = groupHasPrerelease
    }

    /// Whether `version` satisfies the constraint under Masterminds's default rules (Helm without `--devel`).
    public func isSatisfied(by version: SemanticVersion) -> Bool {
        isSatisfied(by: version, includePrerelease: false)
    }

    /// Whether `version` satisfies the constraint; with `includePrerelease` (Helm `--devel`) prereleases are not excluded for lacking a prerelease comparator in their alternative.
    public func isSatisfied(by version: SemanticVersion, includePrerelease: Bool) -> Bool {
        for (index, group) in groups.enumerated() {
            let allowPrerelease = includePrerelease || groupHasPrerelease[index]
            if group.allSatisfy({ $0.matches(version, allowPrerelease: allowPrerelease) }) {
                return true
            }
        }
        return false
    }

    /// The constraint text, as given.
    public var description: String { text }

    /// The parsed form as Masterminds `String()` prints it, e.g. `>= 1.2, <= 1.4.5` becomes `>=1.2 <=1.4.5`.
    public var normalized: String {
        groups.map { group in group.map { $0.operatorText + $0.versionText }.joined(separator: " ") }
            .joined(separator: " || ")
    }
}

extension VersionConstraint {
    /// The text after Masterminds `rewriteRange` turned each `A - B` into `>= A, <= B ` (exposed for tests).
    static func rewritingHyphenRanges(_ text: String) -> String {
        SemverText.string(rewriteHyphenRanges(Array(text.utf8)))
    }
}

// MARK: - Comparators

/// One operator-and-version comparator of an AND group, e.g. `>=1.2` or `2.x`.
struct Comparator: Sendable {
    /// What the comparator checks; several spellings share one kind.
    enum Kind: Sendable {
        case tildeOrEqual, notEqual, greater, less, greaterOrEqual, lessOrEqual, tilde, caret
    }

    let kind: Kind
    /// The operator as written (`""` when none).
    let operatorText: String
    /// The version as written, e.g. `1.2.x` or `v2`.
    let versionText: String
    /// The version compared against, wildcards and missing parts as 0.
    let version: SemanticVersion
    /// Some part is a wildcard or missing (`1.2`, `1.x`, `*`).
    let dirty: Bool
    /// The minor part is a wildcard or missing (`1`, `1.x`).
    let minorDirty: Bool
    /// The patch part is a wildcard or missing (`1.2`, `1.2.x`).
    let patchDirty: Bool

    /// Builds the comparator for an atom found in `group`, as Masterminds `parseConstraint` does.
    static func make(_ atom: Atom, in group: [UInt8]) -> Result<Comparator, Problem> {
        let kind: Kind
        switch atom.operatorText {
        case "", "=": kind = .tildeOrEqual
        case "!=": kind = .notEqual
        case ">": kind = .greater
        case "<": kind = .less
        case ">=", "=>": kind = .greaterOrEqual
        case "<=", "=<": kind = .lessOrEqual
        case "~", "~>": kind = .tilde
        default: kind = .caret
        }
        let cv = atom.version
        let major = Array(group[cv.major])
        let minor = cv.minor.map { Array(group[$0]) }
        let patch = cv.patch.map { Array(group[$0]) }
        let pre = cv.prerelease.map { [SemverText.minusSign] + group[$0] } ?? []
        let whole = Array(group[cv.whole])

        var dirty = false, minorDirty = false, patchDirty = false
        let target: [UInt8]
        if isWildcard(major) {
            dirty = true
            target = Array("0.0.0".utf8) + pre
        } else if minor.map(isWildcard) ?? true {
            dirty = true
            minorDirty = true
            target = major + Array(".0.0".utf8) + pre
        } else if patch.map(isWildcard) ?? true {
            dirty = true
            patchDirty = true
            target = major + [SemverText.dot] + minor! + Array(".0".utf8) + pre
        } else {
            target = whole
        }
        let version: SemanticVersion
        do {
            version = try SemanticVersion(parsing: SemverText.string(target))
        } catch {
            return .failure(Problem(reason: "\(SemverText.quoted(SemverText.string(whole))) is not a valid version: \(error.reason)"))
        }
        return .success(Comparator(
            kind: kind, operatorText: atom.operatorText, versionText: SemverText.string(whole), version: version,
            dirty: dirty, minorDirty: minorDirty, patchDirty: patchDirty))
    }

    /// Masterminds's check for this comparator; `allowPrerelease` is the AND group's prerelease allowance.
    func matches(_ v: SemanticVersion, allowPrerelease: Bool) -> Bool {
        if v.isPrerelease && !allowPrerelease { return false }
        let c = version
        switch kind {
        case .notEqual:
            if dirty {
                if c.major != v.major { return true }
                if c.minor != v.minor && !minorDirty { return true }
                if minorDirty { return false }
                if c.patch != v.patch && !patchDirty { return true }
                if patchDirty {
                    if v.isPrerelease || c.isPrerelease {
                        return SemverText.comparePrerelease(v.prerelease, c.prerelease) != 0
                    }
                    return false
                }
            }
            return v.compare(to: c) != 0
        case .greater:
            if !dirty { return v.compare(to: c) > 0 }
            if v.major > c.major { return true }
            if v.major < c.major { return false }
            if minorDirty { return false }  // >11 does not match 11.1.0
            if patchDirty { return v.minor > c.minor }  // >11.1 does not match 11.1.1
            return v.compare(to: c) > 0
        case .less:
            return v.compare(to: c) < 0
        case .greaterOrEqual:
            return v.compare(to: c) >= 0
        case .lessOrEqual:
            if !dirty { return v.compare(to: c) <= 0 }
            if v.major > c.major { return false }
            if v.major == c.major && v.minor > c.minor && !minorDirty { return false }
            return true
        case .tilde:
            return tildeMatches(v)
        case .tildeOrEqual:
            return dirty ? tildeMatches(v) : v.compare(to: c) == 0
        case .caret:
            if v.compare(to: c) < 0 { return false }
            if c.major > 0 || minorDirty { return v.major == c.major }
            if v.major > 0 { return false }
            if c.minor > 0 || patchDirty { return v.minor == c.minor }
            if v.minor > 0 { return false }
            return v.patch == c.patch
        }
    }

    /// Masterminds `constraintTilde` (after the prerelease gate).
    private func tildeMatches(_ v: SemanticVersion) -> Bool {
        let c = version
        if v.compare(to: c) < 0 { return false }
        // ~0.0.0 (and ~*) accepts everything.
        if c.major == 0 && c.minor == 0 && c.patch == 0 && !minorDirty && !patchDirty { return true }
        if v.major != c.major { return false }
        if v.minor != c.minor && !minorDirty { return false }
        return true
    }
}

/// `x`, `X` or `*`.
private func isWildcard(_ segment: [UInt8]) -> Bool {
    segment.count == 1 && (segment[0] == UInt8(ascii: "x") || segment[0] == UInt8(ascii: "X") || segment[0] == UInt8(ascii: "*"))
}

// MARK: - Scanning

/// Why a piece of constraint text was rejected.
struct Problem: Error, Sendable {
    let reason: String
}

/// The byte ranges of a constraint version (`CV` above) within its text.
struct ConstraintVersion: Sendable {
    var whole: Range<Int>
    var major: Range<Int>
    var minor: Range<Int>?
    var patch: Range<Int>?
    var prerelease: Range<Int>?
}

/// An operator and the version after it, found in an AND group.
struct Atom: Sendable {
    let operatorText: String
    let version: ConstraintVersion
}

/// Go regexp `\s`.
@inline(__always) private func isSpace(_ c: UInt8) -> Bool {
    c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0c || c == 0x0d
}

/// `[0-9|x|X|\*]`, the characters of a constraint version segment (the `|` is the regex's own quirk).
@inline(__always) private func isSegmentChar(_ c: UInt8) -> Bool {
    SemverText.isDigit(c) || c == UInt8(ascii: "x") || c == UInt8(ascii: "X") || c == UInt8(ascii: "*") || c == UInt8(ascii: "|")
}

/// Greedily scans a constraint version at `start` (no leading space); nil when none starts there.
private func scanConstraintVersion(_ b: [UInt8], at start: Int) -> ConstraintVersion? {
    var i = start
    if i < b.count && b[i] == SemverText.letterV { i += 1 }
    let majorEnd = SemverText.scanWhile(b, from: i, isSegmentChar)
    guard majorEnd > i else { return nil }
    var cv = ConstraintVersion(whole: start..<majorEnd, major: i..<majorEnd)
    i = majorEnd
    var more: [Range<Int>] = []
    while more.count < 2, i + 1 < b.count, b[i] == SemverText.dot, isSegmentChar(b[i + 1]) {
        let end = SemverText.scanWhile(b, from: i + 1, isSegmentChar)
        more.append((i + 1)..<end)
        i = end
    }
    cv.minor = more.count > 0 ? more[0] : nil
    cv.patch = more.count > 1 ? more[1] : nil
    if i < b.count && b[i] == SemverText.minusSign, let end = SemverText.scanIdentifiers(b, from: i + 1) {
        cv.prerelease = (i + 1)..<end
        i = end
    }
    if i < b.count && b[i] == SemverText.plusSign, let end = SemverText.scanIdentifiers(b, from: i + 1) {
        i = end
    }
    cv.whole = start..<i
    return cv
}

/// The operator alternatives in the order the regex tries them.
private let operatorAlternatives: [[UInt8]] = ["=", "", "!=", ">", "<", ">=", "=>", "<=", "=<", "~", "~>", "^"].map { Array($0.utf8) }

/// Operators longest first, to name the operator in error messages.
private let operatorsLongestFirst: [[UInt8]] = operatorAlternatives.filter { !$0.isEmpty }.sorted { $0.count > $1.count }

private func hasPrefix(_ b: [UInt8], _ prefix: [UInt8], at i: Int) -> Bool {
    i + prefix.count <= b.count && b[i..<(i + prefix.count)].elementsEqual(prefix)
}

/// Matches `\s*OP\s*CV` at `start`; returns the atom and where it ends.
private func matchAtom(_ b: [UInt8], at start: Int) -> (atom: Atom, end: Int)? {
    let i = SemverText.scanWhile(b, from: start, isSpace)
    for op in operatorAlternatives where hasPrefix(b, op, at: i) {
        let j = SemverText.scanWhile(b, from: i + op.count, isSpace)
        if let cv = scanConstraintVersion(b, at: j) {
            return (Atom(operatorText: SemverText.string(op), version: cv), cv.whole.upperBound)
        }
    }
    return nil
}

/// The run of bytes at `start` up to the next space or comma.
private func word(_ b: [UInt8], at start: Int) -> String {
    SemverText.string(b[start..<SemverText.scanWhile(b, from: start, { !isSpace($0) && $0 != UInt8(ascii: ",") })])
}

/// Explains why no atom matches at `start` (after any spaces).
private func explainNoAtom(_ b: [UInt8], at start: Int, afterComma: Bool) -> Problem {
    let i = SemverText.scanWhile(b, from: start, isSpace)
    if i == b.count || b[i] == UInt8(ascii: ",") {
        return Problem(reason: afterComma ? "expected a version after \",\"" : "expected a version")
    }
    if let op = operatorsLongestFirst.first(where: { hasPrefix(b, $0, at: i) }) {
        let j = SemverText.scanWhile(b, from: i + op.count, isSpace)
        if j == b.count || b[j] == UInt8(ascii: ",") {
            return Problem(reason: "operator \(SemverText.quoted(SemverText.string(op))) is not followed by a version")
        }
        return Problem(reason: "\(SemverText.quoted(word(b, at: j))) is not a valid version")
    }
    return Problem(reason: "\(SemverText.quoted(word(b, at: i))) is not a valid version")
}

/// Explains an atom that is followed by something other than a space, a comma or the end.
private func explainTrailing(_ b: [UInt8], atom: Atom) -> Problem {
    let end = atom.version.whole.upperBound
    let operatorChars = Array("=<>!~^".utf8)
    if operatorChars.contains(b[end]) {
        return Problem(reason: "missing space or comma before \(SemverText.quoted(word(b, at: end)))")
    }
    return Problem(reason: "\(SemverText.quoted(word(b, at: atom.version.whole.lowerBound))) is not a valid version")
}

/// Validates one `||` alternative and splits it into atoms, as `validConstraintRegex` + `findConstraintRegex` do.
private func scanGroup(_ g: [UInt8]) -> Result<[Atom], Problem> {
    if g.allSatisfy(isSpace) {
        return .failure(Problem(reason: "empty alternative around \"||\""))
    }
    guard let first = matchAtom(g, at: 0) else {
        return .failure(explainNoAtom(g, at: 0, afterComma: false))
    }
    var atoms = [first.atom]
    var previous = first.atom
    var rest = first.end
    while rest < g.count {
        let q = SemverText.scanWhile(g, from: rest, isSpace)
        if q == g.count { break }
        let next: (atom: Atom, end: Int)
        if g[q] == UInt8(ascii: ",") {
            guard let found = matchAtom(g, at: q + 1) else {
                return .failure(explainNoAtom(g, at: q + 1, afterComma: true))
            }
            next = found
        } else {
            guard q > rest else { return .failure(explainTrailing(g, atom: previous)) }
            guard let found = matchAtom(g, at: q) else {
                return .failure(explainNoAtom(g, at: q, afterComma: false))
            }
            next = found
        }
        atoms.append(next.atom)
        previous = next.atom
        rest = next.end
    }
    return .success(atoms)
}

/// `strings.Split(text, "||")`.
private func splitAlternatives(_ b: [UInt8]) -> [[UInt8]] {
    var parts: [[UInt8]] = []
    var start = 0
    var i = 0
    let bar = UInt8(ascii: "|")
    while i + 1 < b.count {
        if b[i] == bar && b[i + 1] == bar {
            parts.append(Array(b[start..<i]))
            i += 2
            start = i
        } else {
            i += 1
        }
    }
    parts.append(Array(b[start...]))
    return parts
}

/// Masterminds `rewriteRange`: every `A - B` found by `\s*(CV)\s+-\s+(CV)\s*` becomes `>= A, <= B `.
///
/// Like the library, all matches are found in the original text first, then each is replaced at
/// its first occurrence in the text being rewritten.
private func rewriteHyphenRanges(_ b: [UInt8]) -> [UInt8] {
    var matches: [(whole: [UInt8], replacement: [UInt8])] = []
    var position = 0
    while position < b.count {
        guard let (range, low, high) = matchHyphenRange(b, at: position) else {
            position += 1
            continue
        }
        let replacement = Array(">= ".utf8) + b[low] + Array(", <= ".utf8) + b[high] + [UInt8(ascii: " ")]
        matches.append((Array(b[range]), replacement))
        position = range.upperBound
    }
    var out = b
    for (whole, replacement) in matches {
        if let at = firstOccurrence(of: whole, in: out) {
            out.replaceSubrange(at..<(at + whole.count), with: replacement)
        }
    }
    return out
}

/// Matches `\s*(CV)\s+-\s+(CV)\s*` starting exactly at `start`.
private func matchHyphenRange(_ b: [UInt8], at start: Int) -> (Range<Int>, Range<Int>, Range<Int>)? {
    let i = SemverText.scanWhile(b, from: start, isSpace)
    guard let low = scanConstraintVersion(b, at: i) else { return nil }
    var j = low.whole.upperBound
    let afterLow = SemverText.scanWhile(b, from: j, isSpace)
    guard afterLow > j, afterLow < b.count, b[afterLow] == SemverText.minusSign else { return nil }
    j = afterLow + 1
    let beforeHigh = SemverText.scanWhile(b, from: j, isSpace)
    guard beforeHigh > j, let high = scanConstraintVersion(b, at: beforeHigh) else { return nil }
    let end = SemverText.scanWhile(b, from: high.whole.upperBound, isSpace)
    return (start..<end, low.whole, high.whole)
}

private func firstOccurrence(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
    guard !needle.isEmpty, needle.count <= haystack.count else { return nil }
    for at in 0...(haystack.count - needle.count) where haystack[at] == needle[0] {
        if haystack[at..<(at + needle.count)].elementsEqual(needle) { return at }
    }
    return nil
}
