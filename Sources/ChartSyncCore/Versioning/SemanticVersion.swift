// Chart versions as Helm reads them: a port of the version half of Masterminds/semver v3
// (`NewVersion`, `StrictNewVersion`, `Compare`) with its default settings.

/// Why a text is not a version, with the reason Masterminds/semver v3 would give.
public struct SemanticVersionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The text that was being parsed, as given.
    public let text: String
    /// What is wrong with it, e.g. `version segment starts with 0`.
    public let reason: String

    /// Creates an error saying why `text` is not a version.
    public init(text: String, reason: String) {
        self.text = text
        self.reason = reason
    }

    /// A one-line message such as `invalid version "1.2.beta": invalid semantic version`.
    public var description: String { "invalid version \(SemverText.quoted(text)): \(reason)" }
}

/// A chart version as Masterminds/semver v3 `NewVersion` parses it (lenient: `v` prefix, partial `1.2`, leading zeros coerced like `0.46.00`).
///
/// Ordering follows Masterminds `Compare`: major, minor and patch numerically, then a version
/// without prerelease above one with a prerelease, then prerelease identifiers per SemVer 2.0.
/// Build metadata and the original spelling are ignored, so `1.0`, `v1.0.0` and `1.0.0+build`
/// are all equal (`==`) and hash alike.
public struct SemanticVersion: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The major version number.
    public let major: UInt64
    /// The minor version number (0 when the text had none).
    public let minor: UInt64
    /// The patch version number (0 when the text had none).
    public let patch: UInt64
    /// The prerelease identifiers without the leading `-`; empty when none.
    public let prerelease: String
    /// The build metadata without the leading `+`; empty when none.
    public let metadata: String
    /// The text exactly as given, e.g. `v5.20.0`.
    public let original: String

    /// Parses `text` the way Masterminds `NewVersion` does with its defaults (`v` prefix, one to three numeric segments, leading zeros coerced).
    public init(parsing text: String) throws(SemanticVersionError) {
        let bytes = Array(text.utf8)
        guard let shape = LooseShape(bytes) else {
            throw SemanticVersionError(text: text, reason: SemanticVersion.diagnoseLoose(bytes))
        }
        func number(_ range: Range<Int>?) throws(SemanticVersionError) -> UInt64 {
            guard let range else { return 0 }
            guard let value = SemverText.parseUInt64(bytes[range]) else {
                throw SemanticVersionError(
                    text: text,
                    reason: "error parsing version segment: \(SemverText.quoted(SemverText.string(bytes[range]))) is out of range for a 64-bit number")
            }
            return value
        }
        let major = try number(shape.major)
        let minor = try number(shape.minor)
        let patch = try number(shape.patch)
        let prerelease = shape.prerelease.map { SemverText.string(bytes[$0]) } ?? ""
        if !prerelease.isEmpty, let reason = SemverText.validatePrerelease(prerelease) {
            throw SemanticVersionError(text: text, reason: reason)
        }
        let metadata = shape.metadata.map { SemverText.string(bytes[$0]) } ?? ""
        self.init(major: major, minor: minor, patch: patch, prerelease: prerelease, metadata: metadata, original: text)
    }

    /// Parses `text` the way Masterminds `StrictNewVersion` does: exactly `MAJOR.MINOR.PATCH[-PRE][+META]`, no `v`, no leading zeros.
    public static func strict(_ text: String) throws(SemanticVersionError) -> SemanticVersion {
        func fail(_ reason: String) -> SemanticVersionError { SemanticVersionError(text: text, reason: reason) }
        guard !text.isEmpty else { throw fail("version string empty") }

        // Split into major, minor and "patch plus the rest" at the first two dots.
        let bytes = Array(text.utf8)
        guard let firstDot = bytes.firstIndex(of: SemverText.dot),
              let secondDot = bytes[(firstDot + 1)...].firstIndex(of: SemverText.dot)
        else {
            throw fail("invalid semantic version: expected MAJOR.MINOR.PATCH")
        }
        let parts = [0..<firstDot, (firstDot + 1)..<secondDot]
        var last = (secondDot + 1)..<bytes.count

        var metadata = ""
        if let plus = bytes[last].firstIndex(of: SemverText.plusSign) {
            metadata = SemverText.string(bytes[(plus + 1)..<last.upperBound])
            last = last.lowerBound..<plus
            if let reason = SemverText.validateMetadata(metadata) { throw fail(reason) }
        }
        var prerelease = ""
        if let dash = bytes[last].firstIndex(of: SemverText.minusSign) {
            prerelease = SemverText.string(bytes[(dash + 1)..<last.upperBound])
            last = last.lowerBound..<dash
            if let reason = SemverText.validatePrerelease(prerelease) { throw fail(reason) }
        }

        let segments = parts + [last]
        for segment in segments {
            guard bytes[segment].allSatisfy(SemverText.isDigit) else { throw fail("invalid characters in version") }
            if segment.count > 1 && bytes[segment.lowerBound] == SemverText.zero {
                throw fail("version segment starts with 0")
            }
        }
        var numbers: [UInt64] = []
        for segment in segments {
            guard !segment.isEmpty else { throw fail("empty version segment") }
            guard let value = SemverText.parseUInt64(bytes[segment]) else {
                throw fail("\(SemverText.quoted(SemverText.string(bytes[segment]))) is out of range for a 64-bit number")
            }
            numbers.append(value)
        }
        return SemanticVersion(
            major: numbers[0], minor: numbers[1], patch: numbers[2],
            prerelease: prerelease, metadata: metadata, original: text)
    }

    /// Creates a version from parts that are already valid (used by the parsers).
    init(major: UInt64, minor: UInt64, patch: UInt64, prerelease: String, metadata: String, original: String) {
        self.major = major
        self.minor = minor
        self.patch = patch
        self.prerelease = prerelease
        self.metadata = metadata
        self.original = original
    }

    /// Whether the version has a prerelease part (`1.2.3-rc.1`).
    public var isPrerelease: Bool { !prerelease.isEmpty }

    /// The text as given (`original`).
    public var description: String { original }

    /// The canonical `MAJOR.MINOR.PATCH[-PRE][+META]` spelling, as Masterminds `String()` prints it (no `v`).
    public var canonical: String {
        var out = "\(major).\(minor).\(patch)"
        if !prerelease.isEmpty { out += "-" + prerelease }
        if !metadata.isEmpty { out += "+" + metadata }
        return out
    }

    /// Masterminds `Compare`: -1, 0 or 1 as `self` sorts before, with, or after `other`.
    public func compare(to other: SemanticVersion) -> Int {
        if major != other.major { return major < other.major ? -1 : 1 }
        if minor != other.minor { return minor < other.minor ? -1 : 1 }
        if patch != other.patch { return patch < other.patch ? -1 : 1 }
        switch (prerelease.isEmpty, other.prerelease.isEmpty) {
        case (true, true): return 0
        case (true, false): return 1
        case (false, true): return -1
        case (false, false): return SemverText.comparePrerelease(prerelease, other.prerelease)
        }
    }

    /// Precedence as Masterminds `LessThan` (metadata ignored).
    public static func < (lhs: SemanticVersion, rhs: SemanticVersion) -> Bool {
        lhs.compare(to: rhs) < 0
    }

    /// Equal precedence as Masterminds `Equal`: same numbers and prerelease; metadata and spelling ignored.
    public static func == (lhs: SemanticVersion, rhs: SemanticVersion) -> Bool {
        lhs.compare(to: rhs) == 0
    }

    /// Hashes exactly the parts `==` looks at.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(major)
        hasher.combine(minor)
        hasher.combine(patch)
        hasher.combine(prerelease)
    }
}

// MARK: - Loose shape (the `looseSemVerRegex` of Masterminds, by hand)

/// The parts of `v?N(.N)?(.N)?(-IDS)?(+IDS)?`, as byte ranges; nil when the text does not have that shape.
private struct LooseShape {
    var major: Range<Int>
    var minor: Range<Int>?
    var patch: Range<Int>?
    var prerelease: Range<Int>?
    var metadata: Range<Int>?

    init?(_ b: [UInt8]) {
        var i = 0
        if i < b.count && b[i] == SemverText.letterV { i += 1 }
        let majorEnd = SemverText.scanWhile(b, from: i, SemverText.isDigit)
        guard majorEnd > i else { return nil }
        major = i..<majorEnd
        i = majorEnd
        var numbers: [Range<Int>] = []
        while numbers.count < 2, i < b.count, b[i] == SemverText.dot {
            let end = SemverText.scanWhile(b, from: i + 1, SemverText.isDigit)
            guard end > i + 1 else { return nil }
            numbers.append((i + 1)..<end)
            i = end
        }
        minor = numbers.count > 0 ? numbers[0] : nil
        patch = numbers.count > 1 ? numbers[1] : nil
        if i < b.count && b[i] == SemverText.minusSign {
            guard let end = SemverText.scanIdentifiers(b, from: i + 1) else { return nil }
            prerelease = (i + 1)..<end
            i = end
        }
        if i < b.count && b[i] == SemverText.plusSign {
            guard let end = SemverText.scanIdentifiers(b, from: i + 1) else { return nil }
            metadata = (i + 1)..<end
            i = end
        }
        guard i == b.count else { return nil }
    }
}

extension SemanticVersion {
    /// A specific reason for text that does not have the loose version shape.
    fileprivate static func diagnoseLoose(_ b: [UInt8]) -> String {
        if b.isEmpty { return "version string empty" }
        var i = 0
        if b[i] == SemverText.letterV { i += 1 }
        guard i < b.count, SemverText.isDigit(b[i]) else {
            return "invalid semantic version: must start with a number (optionally after \"v\")"
        }
        var segments = 0
        while true {
            let end = SemverText.scanWhile(b, from: i, SemverText.isDigit)
            if end == i {
                let word = b[i...].prefix { $0 != SemverText.dot && $0 != SemverText.minusSign && $0 != SemverText.plusSign }
                return word.isEmpty
                    ? "invalid semantic version: empty numeric segment"
                    : "invalid semantic version: \(SemverText.quoted(SemverText.string(word))) is not a number"
            }
            segments += 1
            i = end
            guard i < b.count, b[i] == SemverText.dot else { break }
            if segments == 3 { return "invalid semantic version: more than three numeric segments" }
            i += 1
        }
        guard i < b.count else { return "invalid semantic version" }
        let sign = b[i]
        if sign == SemverText.minusSign {
            let end = b[(i + 1)...].firstIndex(of: SemverText.plusSign) ?? b.count
            if SemverText.scanIdentifiers(b, from: i + 1) != end {
                return "invalid prerelease string: identifiers are dot-separated, non-empty [0-9A-Za-z-]"
            }
            i = end
            if i == b.count { return "invalid semantic version" }
        }
        if b[i] == SemverText.plusSign {
            return "invalid metadata string: identifiers are dot-separated, non-empty [0-9A-Za-z-], one \"+\""
        }
        return "invalid semantic version: unexpected \(SemverText.quoted(SemverText.string(b[i...])))"
    }
}

// MARK: - Helpers shared with VersionConstraint
/// Byte-level helpers shared by `SemanticVersion` and `VersionConstraint`.
enum SemverText {
    static let dot = UInt8(ascii: ".")
    static let minusSign = UInt8(ascii: "-")
    static let plusSign = UInt8(ascii: "+")
    static let zero = UInt8(ascii: "0")
    static let letterV = UInt8(ascii: "v")

    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }

    /// `[0-9A-Za-z-]`, the characters of prerelease and metadata identifiers.
    @inline(__always) static func isIdentifierChar(_ c: UInt8) -> Bool {
        isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == minusSign
    }

    /// The index of the first byte at or after `start` that fails `predicate`.
    static func scanWhile(_ b: [UInt8], from start: Int, _ predicate: (UInt8) -> Bool) -> Int {
        var i = start
        while i < b.count && predicate(b[i]) { i += 1 }
        return i
    }

    /// Greedily scans `IDENT(.IDENT)*` (the `[0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*` of the regexes) and returns its end; nil if none starts at `start`.
    static func scanIdentifiers(_ b: [UInt8], from start: Int) -> Int? {
        var end = scanWhile(b, from: start, isIdentifierChar)
        guard end > start else { return nil }
        while end + 1 < b.count && b[end] == dot && isIdentifierChar(b[end + 1]) {
            end = scanWhile(b, from: end + 1, isIdentifierChar)
        }
        return end
    }

    /// Go's `strconv.ParseUint(s, 10, 64)`: ASCII digits only, nil when empty, not a number, or over `UInt64.max`.
    static func parseUInt64<S: Collection>(_ digits: S) -> UInt64? where S.Element == UInt8 {
        guard !digits.isEmpty else { return nil }
        var value: UInt64 = 0
        for c in digits {
            guard isDigit(c) else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(c - zero))
            if overflow1 || overflow2 { return nil }
            value = sum
        }
        return value
    }

    /// Decodes ASCII/UTF-8 bytes into a String.
    static func string<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        String(decoding: Array(bytes), as: UTF8.self)
    }

    /// `text` in double quotes, escaped (like Go's `%q`).
    static func quoted(_ text: String) -> String { Quoting.doubleQuoted(text) }

    /// Masterminds `validatePrerelease`: nil when valid, else the reason.
    static func validatePrerelease(_ text: String) -> String? {
        for part in text.utf8.split(separator: dot, omittingEmptySubsequences: false) {
            if part.isEmpty { return "invalid prerelease string: empty identifier" }
            if part.allSatisfy(isDigit) {
                if part.count > 1 && part.first == zero {
                    return "version segment starts with 0: numeric prerelease identifier \(quoted(string(part))) has a leading zero"
                }
            } else if !part.allSatisfy(isIdentifierChar) {
                return "invalid prerelease string: \(quoted(string(part))) has characters outside [0-9A-Za-z-]"
            }
        }
        return nil
    }

    /// Masterminds `validateMetadata`: nil when valid, else the reason.
    static func validateMetadata(_ text: String) -> String? {
        for part in text.utf8.split(separator: dot, omittingEmptySubsequences: false) {
            if part.isEmpty { return "invalid metadata string: empty identifier" }
            if !part.allSatisfy(isIdentifierChar) {
                return "invalid metadata string: \(quoted(string(part))) has characters outside [0-9A-Za-z-]"
            }
        }
        return nil
    }

    /// Masterminds `comparePrerelease`: identifiers left to right; a missing one sorts first.
    static func comparePrerelease(_ lhs: String, _ rhs: String) -> Int {
        let left = lhs.utf8.split(separator: dot, omittingEmptySubsequences: false)
        let right = rhs.utf8.split(separator: dot, omittingEmptySubsequences: false)
        let empty = lhs.utf8[lhs.utf8.endIndex...]
        for i in 0..<max(left.count, right.count) {
            let a = i < left.count ? left[i] : empty
            let b = i < right.count ? right[i] : empty
            let order = comparePrereleasePart(a, b)
            if order != 0 { return order }
        }
        return 0
    }

    /// Masterminds `comparePrePart`: numbers numerically and below text, text byte-wise.
    private static func comparePrereleasePart(_ s: Substring.UTF8View, _ o: Substring.UTF8View) -> Int {
        if s.elementsEqual(o) { return 0 }
        if s.isEmpty { return -1 }
        if o.isEmpty { return 1 }
        let sNumber = parseUInt64(s)
        let oNumber = parseUInt64(o)
        switch (sNumber, oNumber) {
        case (nil, nil): return o.lexicographicallyPrecedes(s) ? 1 : -1
        case (_?, nil): return -1
        case (nil, _?): return 1
        case let (a?, b?): return a > b ? 1 : -1
        }
    }
}
