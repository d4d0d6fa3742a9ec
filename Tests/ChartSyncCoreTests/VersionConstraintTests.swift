import ChartSyncTestSupport
import Testing
@testable import ChartSyncCore

// Tables below are ported from Masterminds/semver v3 constraints_test.go (TestParseConstraint,
// TestConstraintCheck, TestNewConstraint, TestConstraintsCheck, TestConstraintsCheckIncludePrerelease,
// TestRewriteRange, TestConstraintsValidate*), the constraint corpus of its differential fuzz test,
// and the shared fixture real-constraints-from-indexes.tsv.

/// One row of semver/real-constraints-from-indexes.tsv.
struct ConstraintRow: Sendable, CustomTestStringConvertible {
    let constraint: String
    let parses: Bool
    var testDescription: String { constraint.debugDescription }

    static let all: [ConstraintRow] = Fixtures.rows("semver/real-constraints-from-indexes.tsv").compactMap { fields in
        guard fields.count >= 5 else { return nil }
        return ConstraintRow(constraint: fields[0], parses: fields[4] == "true")
    }
}

private func check(_ constraint: String, _ version: String, includePrerelease: Bool = false) throws -> Bool {
    try VersionConstraint(parsing: constraint)
        .isSatisfied(by: SemanticVersion(parsing: version), includePrerelease: includePrerelease)
}

/// Masterminds TestConstraintCheck: single comparators (the `""` rows are covered by `emptyConstraintIsAnError`).
private let singleComparatorCases: [(String, String, Bool)] = [
    ("=2.0.0", "1.2.3", false), ("=2.0.0", "2.0.0", true), ("=2.0", "1.2.3", false), ("=2.0", "2.0.0", true),
    ("=2.0", "2.0.1", true), ("4.1", "4.1.0", true), ("!=4.1.0", "4.1.0", false), ("!=4.1.0", "4.1.1", true),
    ("!=4.1", "4.1.0", false), ("!=4.1", "4.1.1", false), ("!=4.1", "5.1.0-alpha.1", false),
    ("!=4.1.0", "5.1.0-alpha.1", false), ("!=4.1-alpha", "4.1.0", true), ("!=4.1", "5.1.0", true),
    ("<11", "0.1.0", true), ("<11", "11.1.0", false), ("<1.1", "0.1.0", true), ("<1.1", "1.1.0", false),
    ("<1.1", "1.1.1", false), ("<=11", "1.2.3", true), ("<=11", "12.2.3", false), ("<=11", "11.2.3", true),
    ("<=1.1", "1.2.3", false), ("<=1.1", "0.1.0", true), ("<=1.1", "1.1.0", true), ("<=1.1", "1.1.1", true),
    (">1.1", "4.1.0", true), (">1.1", "1.1.0", false), (">0", "0", false), (">0", "1", true),
    (">0", "0.0.1-alpha", false), (">0.0", "0.0.1-alpha", false), (">0-0", "0.0.1-alpha", false),
    (">0.0-0", "0.0.1-alpha", false), (">0", "0.0.0-alpha", false), (">0-0", "0.0.0-alpha", false),
    (">0.0.0-0", "0.0.0-alpha", true), (">1.2.3-alpha.1", "1.2.3-alpha.2", true),
    (">1.2.3-alpha.1", "1.3.3-alpha.2", true), (">11", "11.1.0", false), (">11.1", "11.1.0", false),
    (">11.1", "11.1.1", false), (">11.1", "11.2.1", true), (">=11", "11.1.2", true), (">=11.1", "11.1.2", true),
    (">=11.1", "11.0.2", false), (">=1.1", "4.1.0", true), (">=1.1", "1.1.0", true), (">=1.1", "0.0.9", false),
    (">=0", "0.0.1-alpha", false), (">=0.0", "0.0.1-alpha", false), (">=0-0", "0.0.1-alpha", true),
    (">=0.0-0", "0.0.1-alpha", true), (">=0", "0.0.0-alpha", false), (">=0-0", "0.0.0-alpha", true),
    (">=0.0.0-0", "0.0.0-alpha", true), (">=0.0.0-0", "1.2.3", true), (">=0.0.0-0", "3.4.5-beta.1", true),
    ("<0", "0.0.0-alpha", false), ("<0-z", "0.0.0-alpha", true), (">=0", "0", true), ("=0", "1", false),
    ("*", "1", true), ("*", "4.5.6", true), ("*", "1.2.3-alpha.1", false), ("*-0", "1.2.3-alpha.1", true),
    ("2.*", "1", false), ("2.*", "3.4.5", false), ("2.*", "2.1.1", true), ("2.1.*", "2.1.1", true),
    ("2.1.*", "2.2.1", false), ("2", "1", false), ("2", "3.4.5", false), ("2", "2.1.1", true),
    ("2.1", "2.1.1", true), ("2.1", "2.2.1", false), ("~1.2.3", "1.2.4", true), ("~1.2.3", "1.3.4", false),
    ("~1.2", "1.2.4", true), ("~1.2", "1.3.4", false), ("~1", "1.2.4", true), ("~1", "2.3.4", false),
    ("~0.2.3", "0.2.5", true), ("~0.2.3", "0.3.5", false), ("~1.2.3-beta.2", "1.2.3-beta.4", true),
    ("~1.2.3-beta.2", "1.2.4-beta.2", true), ("~1.2.3-beta.2", "1.3.4-beta.2", false),
    ("^1.2.3", "1.8.9", true), ("^1.2.3", "2.8.9", false), ("^1.2.3", "1.2.1", false), ("^1.1.0", "2.1.0", false),
    ("^1.2.0", "2.2.1", false), ("^1.2.0", "1.2.1-alpha.1", false), ("^1.2.0-alpha.0", "1.2.1-alpha.1", true),
    ("^1.2.0-alpha.0", "1.2.1-alpha.0", true), ("^1.2.0-alpha.2", "1.2.0-alpha.1", false),
    ("^1.2", "1.8.9", true), ("^1.2", "2.8.9", false), ("^1", "1.8.9", true), ("^1", "2.8.9", false),
    ("^0.2.3", "0.2.5", true), ("^0.2.3", "0.5.6", false), ("^0.2", "0.2.5", true), ("^0.2", "0.5.6", false),
    ("^0.0.3", "0.0.3", true), ("^0.0.3", "0.0.4", false), ("^0.0", "0.0.3", true), ("^0.0", "0.1.4", false),
    ("^0.0", "1.0.4", false), ("^0", "0.2.3", true), ("^0", "1.1.4", false), ("^0.2.3-beta.2", "0.2.3-beta.4", true),
    ("^0.2.3-beta.2", "0.2.4-beta.2", true), ("^0.2.3-beta.2", "0.3.4-beta.2", false),
    ("^0.2.3-beta.2", "0.2.3-beta.2", true),
]

/// Masterminds TestConstraintsCheck (default rules).
private let constraintsCheckCases: [(String, String, Bool)] = [
    ("*", "1.2.3", true), ("~0.0.0", "1.2.3", true), ("0.x.x", "1.2.3", false), ("0.0.x", "1.2.3", false),
    ("0.0.0", "1.2.3", false), ("^0.0.0", "1.2.3", false), ("= 2.0", "1.2.3", false), ("= 2.0", "2.0.0", true),
    ("4.1", "4.1.0", true), ("4.1.x", "4.1.3", true), ("1.x", "1.4", true), ("!=4.1", "4.1.0", false),
    ("!=4.1-alpha", "4.1.0-alpha", false), ("!=4.1-alpha", "4.1.1-alpha", false), ("!=4.1-alpha", "4.1.0", true),
    ("!=4.1", "5.1.0", true), ("!=4.x", "5.1.0", true), ("!=4.x", "4.1.0", false), ("!=4.1.x", "4.2.0", true),
    ("!=4.2.x", "4.2.3", false), (">1.1", "4.1.0", true), (">1.1", "1.1.0", false), ("<1.1", "0.1.0", true),
    ("<1.1", "1.1.0", false), ("<1.1", "1.1.1", false), ("<1.x", "1.1.1", false), ("<1.x", "0.1.1", true),
    ("<1.x", "2.0.0", false), ("<1.1.x", "1.2.1", false), ("<1.1.x", "1.1.500", false), ("<1.1.x", "1.0.500", true),
    ("<1.2.x", "1.1.1", true), (">=1.1", "4.1.0", true), (">=1.1", "4.1.0-beta", false), (">=1.1", "1.1.0", true),
    (">=1.1", "0.0.9", false), ("<=1.1", "0.1.0", true), ("<=1.1", "0.1.0-alpha", false), ("<=1.1-a", "0.1.0-alpha", true),
    ("<=1.1", "1.1.0", true), ("<=1.x", "1.1.0", true), ("<=2.x", "3.0.0", false), ("<=1.1", "1.1.1", true),
    ("<=1.1.x", "1.2.500", false), ("<=4.5", "3.4.0", true), ("<=4.5", "3.7.0", true), ("<=4.5", "4.6.3", false),
    (">1.1, <2", "1.1.1", false), (">1.1, <2", "1.2.1", true), (">1.1, <3", "4.3.2", false),
    (">=1.1, <2, !=1.2.3", "1.2.3", false), (">1.1 <2", "1.1.1", false), (">1.1 <2", "1.2.1", true),
    (">1.1    <3", "4.3.2", false), (">=1.1    <2    !=1.2.3", "1.2.3", false),
    (">=1.1, <2, !=1.2.3 || > 3", "4.1.2", true), (">=1.1, <2, !=1.2.3 || > 3", "3.1.2", false),
    (">=1.1, <2, !=1.2.3 || >= 3", "3.0.0", true), (">=1.1, <2, !=1.2.3 || > 3", "3.0.0", false),
    (">=1.1, <2, !=1.2.3 || > 3", "1.2.3", false), (">=1.1 <2 !=1.2.3", "1.2.3", false),
    (">=1.1 <2 !=1.2.3 || > 3", "4.1.2", true), (">=1.1 <2 !=1.2.3 || > 3", "3.1.2", false),
    (">=1.1 <2 !=1.2.3 || >= 3", "3.0.0", true), (">=1.1 <2 !=1.2.3 || > 3", "3.0.0", false),
    (">=1.1 <2 !=1.2.3 || > 3", "1.2.3", false), ("> 1.1, <     2", "1.1.1", false), (">   1.1, <2", "1.2.1", true),
    (">1.1, <  3", "4.3.2", false), (">= 1.1, <     2, !=1.2.3", "1.2.3", false), ("> 1.1 < 2", "1.1.1", false),
    (">1.1 < 2", "1.2.1", true), ("> 1.1    <3", "4.3.2", false), (">=1.1    < 2    != 1.2.3", "1.2.3", false),
    (">= 1.1, <2, !=1.2.3 || > 3", "4.1.2", true), (">= 1.1, <2, != 1.2.3 || > 3", "3.1.2", false),
    (">= 1.1, <2, != 1.2.3 || >= 3", "3.0.0", true), (">= 1.1, <2, !=1.2.3 || > 3", "3.0.0", false),
    (">= 1.1, <2, !=1.2.3 || > 3", "1.2.3", false), (">= 1.1 <2 != 1.2.3", "1.2.3", false),
    (">= 1.1 <2 != 1.2.3 || > 3", "4.1.2", true), (">= 1.1 <2 != 1.2.3 || > 3", "3.1.2", false),
    (">= 1.1 <2 != 1.2.3 || >= 3", "3.0.0", true), (">= 1.1 < 2 !=1.2.3 || > 3", "3.0.0", false),
    (">=1.1 < 2 !=1.2.3 || > 3", "1.2.3", false), (">= 1.0.0  <= 2.0.0-beta", "1.0.1-beta", true),
    (">= 1.0.0  <= 2.0.0-beta", "1.0.1", true), (">= 1.0.0  <= 2.0.0-beta", "3.0.0", false),
    (">= 1.0.0  <= 2.0.0-beta || > 3", "1.0.1-beta", true), (">= 1.0.0  <= 2.0.0-beta || > 3", "3.0.1-beta", false),
    (">= 1.0.0  <= 2.0.0-beta != 1.0.1 || > 3", "1.0.1-beta", true),
    (">= 1.0.0  <= 2.0.0-beta != 1.0.1-beta || > 3", "1.0.1-beta", false),
    (">= 1.0.0-0  <= 2.0.0", "1.0.1-beta", true), ("1.1 - 2", "1.1.1", true), ("1.5.0 - 4.5", "3.7.0", true),
    ("1.1-3", "4.3.2", false), ("^1.1", "1.1.1", true), ("^1.1", "4.3.2", false), ("^1.x", "1.1.1", true),
    ("^2.x", "1.1.1", false), ("^1.x", "2.1.1", false), ("^1.x", "1.1.1-beta1", false),
    ("^1.1.2-alpha", "1.2.1-beta1", true), ("^1.2.x-alpha", "1.1.1-beta1", false), ("^0.0.1", "0.0.1", true),
    ("^0.0.1", "0.3.1", false), ("~*", "2.1.1", true), ("~1", "2.1.1", false), ("~1", "1.3.5", true),
    ("~1", "1.4", true), ("~1.x", "2.1.1", false), ("~1.x", "1.3.5", true), ("~1.x", "1.4", true),
    ("~1.1", "1.1.1", true), ("~1.1", "1.1.1-alpha", false), ("~1.1-alpha", "1.1.1-beta", true),
    ("~1.1.1-beta", "1.1.1-alpha", false), ("~1.1.1-beta", "1.1.1", true), ("~1.2.3", "1.2.5", true),
    ("~1.2.3", "1.2.2", false), ("~1.2.3", "1.3.2", false), ("~1.1", "1.2.3", false), ("~1.3", "2.4.5", false),
    ("1.0.0 - 2.0.0 <=2.0.0", "1.5.0", true), ("1.0.0 - 2.0.0, <=2.0.0", "1.5.0", true),
    // TestConstraintsValidate rows not already above, and the versions its messages are about.
    ("<2.x", "1.1.1", true), ("<=2.x", "3.1.0", false), ("^1.1", "1.1.1-alpha", false),
    ("^1.1.1-alpha", "1.1.1-beta", true), ("^1.1.1-beta", "1.1.1-alpha", false), ("^0.0.1", "0.1.3", false),
    ("~1", "1.3.5-beta", false), ("~1.x", "1.3.5-beta", false), ("~1.3.6-alpha", "1.3.5-beta", false),
    ("~1.3.5-alpha", "1.3.5-beta", true), ("~1.3.5-beta", "1.3.5-alpha", false), ("2.x", "1.2.3", false),
    ("2", "1.2.3", false), ("!=4.x", "4.1.0", false), ("<1.x", "2.1.1", false), ("<=1.1", "1.2.1", false),
    ("1.1 - 3", "4.3.2", false), ("^1.12.7", "1.6.6", false), ("^0.2", "0.3.0", false), ("^0.2", "0.1.1", false),
    ("^0.0.3", "0.1.1", false), ("^0.0.3", "0.0.2", false), ("~1", "2.1.2", false), ("> 1.2.3", "1.2.3-beta.1", false),
    ("!= 1.2.5, ^2, <= 1.1.x", "1.2.3", false),
]

/// Masterminds TestConstraintsCheckIncludePrerelease / TestConstraintsValidateIncludePrerelease (Helm `--devel`).
private let includePrereleaseCases: [(String, String, Bool)] = [
    (">=1.1", "4.1.0-beta", true), (">1.1", "4.1.0-beta", true), ("<=1.1", "0.1.0-alpha", true),
    ("<1.1", "0.1.0-alpha", true), ("^1.x", "1.1.1-beta1", true), ("~1.1", "1.1.1-alpha", true),
    ("*", "1.2.3-alpha", true), ("= 2.0", "2.0.1-beta", true), ("^1.1", "1.1.1-alpha", true),
    ("~1", "1.3.5-beta", true), ("~1.x", "1.3.5-beta", true),
    ("*", "1.2.3", true), ("~0.0.0", "1.2.3", true), ("0.x.x", "1.2.3", false), ("0.0.x", "1.2.3", false),
    ("0.0.0", "1.2.3", false), ("^0.0.0", "1.2.3", false), ("= 2.0", "1.2.3", false), ("= 2.0", "2.0.0", true),
    ("4.1", "4.1.0", true), ("4.1.x", "4.1.3", true), ("1.x", "1.4", true), ("!=4.1", "4.1.0", false),
    ("!=4.1-alpha", "4.1.0-alpha", false), ("!=4.1-alpha", "4.1.1-alpha", false), ("!=4.1-alpha", "4.1.0", true),
    ("!=4.1", "5.1.0", true), ("!=4.x", "5.1.0", true), ("!=4.x", "4.1.0", false), ("!=4.1.x", "4.2.0", true),
    ("!=4.2.x", "4.2.3", false), (">1.1", "4.1.0", true), (">1.1", "1.1.0", false), ("<1.1", "0.1.0", true),
    ("<1.1", "1.1.0", false), ("<1.1", "1.1.1", false), ("<1.x", "1.1.1", false), ("<1.x", "0.1.1", true),
    ("<1.x", "2.0.0", false), ("<1.1.x", "1.2.1", false), ("<1.1.x", "1.1.500", false), ("<1.1.x", "1.0.500", true),
    ("<1.2.x", "1.1.1", true), (">=1.1", "4.1.0", true), (">=1.1", "1.1.0", true), (">=1.1", "0.0.9", false),
    ("<=1.1", "0.1.0", true), ("<=1.1-a", "0.1.0-alpha", true), ("<=1.1", "1.1.0", true), ("<=1.x", "1.1.0", true),
    ("<=2.x", "3.0.0", false), ("<=1.1", "1.1.1", true), ("<=1.1.x", "1.2.500", false), ("<=4.5", "3.4.0", true),
    ("<=4.5", "3.7.0", true), ("<=4.5", "4.6.3", false), (">1.1, <2", "1.1.1", false), (">1.1, <2", "1.2.1", true),
    (">1.1, <3", "4.3.2", false), (">=1.1, <2, !=1.2.3", "1.2.3", false), (">1.1 <2", "1.1.1", false),
    (">1.1 <2", "1.2.1", true), (">1.1    <3", "4.3.2", false), (">=1.1    <2    !=1.2.3", "1.2.3", false),
    (">=1.1, <2, !=1.2.3 || > 3", "4.1.2", true), (">=1.1, <2, !=1.2.3 || > 3", "3.1.2", false),
    (">=1.1, <2, !=1.2.3 || >= 3", "3.0.0", true), (">=1.1, <2, !=1.2.3 || > 3", "3.0.0", false),
    (">=1.1, <2, !=1.2.3 || > 3", "1.2.3", false), ("> 1.1, <     2", "1.1.1", false), (">   1.1, <2", "1.2.1", true),
    (">= 1.1 <2 != 1.2.3 || >= 3", "3.0.0", true), (">= 1.1 < 2 !=1.2.3 || > 3", "3.0.0", false),
    (">= 1.0.0  <= 2.0.0-beta", "1.0.1-beta", true), (">= 1.0.0  <= 2.0.0-beta", "1.0.1", true),
    (">= 1.0.0  <= 2.0.0-beta", "3.0.0", false), (">= 1.0.0  <= 2.0.0-beta || > 3", "1.0.1-beta", true),
    (">= 1.0.0  <= 2.0.0-beta || > 3", "3.0.1-beta", false),
    (">= 1.0.0  <= 2.0.0-beta != 1.0.1 || > 3", "1.0.1-beta", true),
    (">= 1.0.0  <= 2.0.0-beta != 1.0.1-beta || > 3", "1.0.1-beta", false),
    (">= 1.0.0-0  <= 2.0.0", "1.0.1-beta", true), ("1.1 - 2", "1.1.1", true), ("1.5.0 - 4.5", "3.7.0", true),
    ("1.1-3", "4.3.2", false), ("^1.1", "1.1.1", true), ("^1.1", "4.3.2", false), ("^1.x", "1.1.1", true),
    ("^2.x", "1.1.1", false), ("^1.x", "2.1.1", false), ("^1.1.2-alpha", "1.2.1-beta1", true),
    ("^1.2.x-alpha", "1.1.1-beta1", false), ("^0.0.1", "0.0.1", true), ("^0.0.1", "0.3.1", false),
    ("^1.1.1-alpha", "1.1.1-beta", true), ("^1.1.1-beta", "1.1.1-alpha", false), ("^0.0.1", "0.1.3", false),
    ("~*", "2.1.1", true), ("~1", "2.1.1", false), ("~1", "1.3.5", true), ("~1", "1.4", true),
    ("~1.x", "2.1.1", false), ("~1.x", "1.3.5", true), ("~1.x", "1.4", true), ("~1.1", "1.1.1", true),
    ("~1.1-alpha", "1.1.1-beta", true), ("~1.1.1-beta", "1.1.1-alpha", false), ("~1.1.1-beta", "1.1.1", true),
    ("~1.3.6-alpha", "1.3.5-beta", false), ("~1.3.5-alpha", "1.3.5-beta", true), ("~1.3.5-beta", "1.3.5-alpha", false),
    ("~1.2.3", "1.2.5", true), ("~1.2.3", "1.2.2", false), ("~1.2.3", "1.3.2", false), ("~1.1", "1.2.3", false),
    ("~1.3", "2.4.5", false), ("1.0.0 - 2.0.0 <=2.0.0", "1.5.0", true), ("1.0.0 - 2.0.0, <=2.0.0", "1.5.0", true),
    // Validate messages with prereleases included: judged on the version alone.
    ("> 1.2.3", "1.2.3-beta.1", false), ("< 1.2.3", "1.2.4-beta.1", false), (">= 1.2.3", "1.2.3-beta.1", false),
    ("<= 1.2.3", "1.2.4-beta.1", false), ("> 1.2.3", "1.2.4-beta.1", true), ("!= 1.2.5, ^2, <= 1.1.x", "1.2.3", false),
]

/// Forms seen in real chart indexes and the behaviours the chartsync brief calls out.
private let helmFormCases: [(String, String, Bool)] = [
    ("=2.0", "2.0.1", true), (">11", "11.1.0", false), (">11", "12.0.0", true), ("<=1.2", "1.2.9", true),
    ("<=1.2", "1.3.0", false), ("~0.0.0", "5.6.7", true), ("2.x.x", "2.9.1", true), ("2.x.x", "3.0.0", false),
    ("2.x.x", "1.9.9", false), ("17.X.X", "17.0.1", true), ("2.X", "2.1.0", true), ("0.0.*", "0.0.9", true),
    ("0.0.*", "0.1.0", false), ("1.2.*", "1.2.7", true), ("1.2 - 1.4.5", "1.4.5", true),
    ("1.2 - 1.4.5", "1.4.6", false), ("1.2 - 1.4.5", "1.2.0", true), ("1.2 - 1.4.5", "1.1.9", false),
    ("1.2 - 1.4", "1.4.9", true), ("v1.8.0", "1.8.0", true), ("v1.8.0", "v1.8.0", true), ("1.8.0", "1.8.1", false),
    ("0.8.0-rc.2", "0.8.0-rc.2", true), ("0.8.0-rc.2", "0.8.0", false), ("^0.6.0", "0.6.3", true),
    ("^0.6.0", "0.7.0", false), ("~5.8.1", "5.8.9", true), ("~5.8.1", "5.9.0", false),
    (">= 1.19.0-0", "1.29.3-eks-1234", true), (">= 1.19.0-0", "1.18.9", false), (">=1.22", "1.30.0-gke.1", false),
    ("^1.8.0-0", "1.8.0", true), ("^1.8.0-0", "1.31.0-gke.100", true), ("^1.8.0-0", "2.0.0-0", false),
    ("~> 1.2", "1.2.9", true), ("=> 1.2, =< 1.4", "1.4.1", true), ("=> 1.2, =< 1.4", "1.5.0", false),
    (">=1.0.0 <2.0.0 || >=3.0.0", "3.1.0", true), (">=1.0.0 <2.0.0 || >=3.0.0", "2.5.0", false),
    ("0.46.00", "0.46.0", true), ("1.1-3", "1.1.5", true), ("1.1-3", "1.1.0-4", true), ("1.1-3", "1.2.0", false),
    ("1 - 2||3", "3.0.0", true), ("1 - 2||3", "1.5.0", true), ("1.2 - 1.4.5 || 2.0 - 3", "2.5.0", true),
]

/// Behaviours that follow from the Masterminds code rather than its comments or docs.
private let quirkCases: [(String, String, Bool)] = [
    ("^*", "0.0.0", true), ("^*", "1.2.3", false),  // comment says "any"; the code needs 0.0.x with patch 0
    ("!=*", "0.0.0", false), ("!=*", "1.0.0", true),
    ("x.2.3", "9.9.9", true),  // a wildcard major ignores the rest
    ("1.*.3", "1.9.0", true),
    ("*.*.*", "4.0.0", true),
]

@Suite("VersionConstraint")
struct VersionConstraintTests {
    // MARK: Fixture

    @Test func realConstraintsFixtureIsPresent() {
        #expect(ConstraintRow.all.count == 463, "real-constraints-from-indexes.tsv not found or changed under \(Fixtures.root)")
    }

    @Test(arguments: ConstraintRow.all)
    func realConstraintParses(_ row: ConstraintRow) {
        let parsed = Result { () throws(VersionConstraintError) in try VersionConstraint(parsing: row.constraint) }
        switch parsed {
        case .success(let constraint):
            #expect(row.parses)
            #expect(constraint.text == row.constraint)
        case .failure(let error):
            #expect(!row.parses, "\(error)")
        }
    }

    // MARK: Parsing (TestParseConstraint / TestNewConstraint / differential fuzz corpus)

    @Test(arguments: [
        (">= 1.2", Comparator.Kind.greaterOrEqual, "1.2.0"), ("1.0", .tildeOrEqual, "1.0.0"),
        ("<= 1.2", .lessOrEqual, "1.2.0"), ("=< 1.2", .lessOrEqual, "1.2.0"), ("=> 1.2", .greaterOrEqual, "1.2.0"),
        ("v1.2", .tildeOrEqual, "1.2.0"), ("=1.5", .tildeOrEqual, "1.5.0"), ("> 1.3", .greater, "1.3.0"),
        ("< 1.4.1", .less, "1.4.1"), ("< 40.50.10", .less, "40.50.10"), ("!=4.1", .notEqual, "4.1.0"),
        ("~>1.2.x", .tilde, "1.2.0"), ("~ 1", .tilde, "1.0.0"), ("^1.2.x-alpha", .caret, "1.2.0-alpha"),
        ("*", .tildeOrEqual, "0.0.0"), ("*-0", .tildeOrEqual, "0.0.0-0"), ("1.2.3+meta", .tildeOrEqual, "1.2.3+meta"),
        ("1.2+meta", .tildeOrEqual, "1.2.0"), ("01.2.3", .tildeOrEqual, "1.2.3"),
    ])
    func parseComparator(_ text: String, kind: Comparator.Kind, version: String) throws {
        let constraint = try VersionConstraint(parsing: text)
        #expect(constraint.groups.count == 1)
        #expect(constraint.groups[0].count == 1)
        let comparator = try #require(constraint.groups.first?.first)
        #expect(comparator.kind == kind)
        #expect(comparator.version.canonical == version)
    }

    @Test(arguments: [
        (">= 1.1", 1, 1), (">40.50.60, < 50.70", 1, 2), ("2.0", 1, 1), ("v2.3.5-20161202202307-sha.e8fc5e5", 1, 1),
        (">= 1.2.3 < 2.0", 1, 2), (">= 1.2.3 < 2.0 || => 3.0 < 4", 2, 2), (">= 1.2.3, < 2.0", 1, 2),
        (">= 1.2.3, < 2.0 || => 3.0, < 4", 2, 2), ("3 - 4 || => 3.0, < 4", 2, 2), ("12.3.34 ~1.2.3", 1, 2),
        ("1.0.0 - 2.0.0, <=2.0.0", 1, 3), (">= 1.2 || < 3, > 4", 2, 1), ("1.2.3 ", 1, 1), (" 1.2.3", 1, 1),
        (">= 2.1.x , < 3.1.0", 1, 2), ("\t>=1\n<2\r", 1, 2), ("1.0 , 2.0", 1, 2), ("x.18446744073709551616", 1, 1),
        ("1 - 2||3", 2, 2),
    ])
    func newConstraintShape(_ text: String, alternatives: Int, firstGroupCount: Int) throws {
        let constraint = try VersionConstraint(parsing: text)
        #expect(constraint.groups.count == alternatives)
        #expect(constraint.groups.first?.count == firstGroupCount)
    }

    @Test(arguments: [
        ">= bar", "BAR >= 1.2.3", "12.3.4.1234", "12.23.4.1234", "12.3.34.1234", "12.3.34~ 1.2.3",
        "", " ", "==1.2.3", "V1.2.3", "1.0.0 -2.0.0", "1.0.0- 2.0.0", "1.2.3-", "1.2.3+", "1.2.3-alpha.",
        "1.2.3.4.5.6", "1|2", "1.2|3", "1.02.3x", "1.2.3-01", ",1.0", "1.0,", "1.0,,2.0", "1.0<2.0", "> = 1.2",
        ">=", "~", "^", "foo", "lorem ipsum", "18446744073709551616.0.0", "1.18446744073709551616",
        "|| 1.2.3", "1.2.3 ||", "1.2.3 || || 2.0.0", "1.xx", "\u{0B}1.2", "1.2.3\u{0B}",
        // The range rewrite starts its match at the space before "1.2", so the comparator
        // before it loses its separator; and the segment class includes '|', so "1.4.5||2"
        // is read as one version before the "||" split.
        "1.0 1.2 - 2", "1.2 - 1.4.5||2.0 - 3", "1.0 ||2 - 3",
    ])
    func newConstraintRejects(_ text: String) {
        #expect(throws: VersionConstraintError.self) { try VersionConstraint(parsing: text) }
    }

    @Test func emptyConstraintIsAnError() {
        #expect(throws: VersionConstraintError(text: "", reason: "the constraint is empty")) {
            try VersionConstraint(parsing: "")
        }
    }

    // MARK: Checking

    @Test(arguments: singleComparatorCases)
    func singleComparator(_ constraint: String, _ version: String, _ expected: Bool) throws {
        #expect(try check(constraint, version) == expected)
    }

    @Test(arguments: constraintsCheckCases)
    func constraintsCheck(_ constraint: String, _ version: String, _ expected: Bool) throws {
        #expect(try check(constraint, version) == expected)
    }

    @Test(arguments: includePrereleaseCases)
    func constraintsCheckIncludingPrereleases(_ constraint: String, _ version: String, _ expected: Bool) throws {
        #expect(try check(constraint, version, includePrerelease: true) == expected)
    }

    @Test(arguments: helmFormCases)
    func helmForms(_ constraint: String, _ version: String, _ expected: Bool) throws {
        #expect(try check(constraint, version) == expected)
    }

    @Test(arguments: quirkCases)
    func mastermindsQuirks(_ constraint: String, _ version: String, _ expected: Bool) throws {
        #expect(try check(constraint, version) == expected)
    }

    @Test func defaultCheckExcludesPrereleases() throws {
        let constraint = try VersionConstraint(parsing: ">=1.0.0")
        let rc = try SemanticVersion(parsing: "1.5.0-rc.1")
        #expect(!constraint.isSatisfied(by: rc))
        #expect(constraint.isSatisfied(by: rc, includePrerelease: true))
        // A prerelease comparator opens its own alternative only.
        let mixed = try VersionConstraint(parsing: ">=2.0.0-0 || >=1.0.0")
        #expect(mixed.isSatisfied(by: try SemanticVersion(parsing: "2.1.0-rc.1")))
        #expect(!mixed.isSatisfied(by: rc))
    }

    @Test func anyMatchesEveryRelease() throws {
        #expect(VersionConstraint.any.text == "*")
        #expect(VersionConstraint.any.description == "*")
        #expect(VersionConstraint.any.isSatisfied(by: try SemanticVersion(parsing: "0.0.0")))
        #expect(VersionConstraint.any.isSatisfied(by: try SemanticVersion(parsing: "v99.1")))
        #expect(!VersionConstraint.any.isSatisfied(by: try SemanticVersion(parsing: "1.0.0-rc.1")))
        #expect(VersionConstraint.any.isSatisfied(by: try SemanticVersion(parsing: "1.0.0-rc.1"), includePrerelease: true))
    }

    // MARK: Range rewriting and printing (TestRewriteRange, Constraints.String)

    @Test(arguments: [
        ("2 - 3", ">= 2, <= 3 "), ("2 - 3, 2 - 3", ">= 2, <= 3 ,>= 2, <= 3 "),
        ("2 - 3, 4.0.0 - 5.1", ">= 2, <= 3 ,>= 4.0.0, <= 5.1 "), ("2 - 3 4.0.0 - 5.1", ">= 2, <= 3 >= 4.0.0, <= 5.1 "),
        ("1.0.0 - 2.0.0 <=2.0.0", ">= 1.0.0, <= 2.0.0 <=2.0.0"), ("1.1-3", "1.1-3"), (">=1.2.3", ">=1.2.3"),
        ("1.0 1.2 - 2", "1.0>= 1.2, <= 2 "), ("1.2 - 1.4.5||2.0 - 3", ">= 1.2, <= 1.4.5||2 .>= 0, <= 3 "),
    ])
    func rewriteRange(_ text: String, expected: String) {
        #expect(VersionConstraint.rewritingHyphenRanges(text) == expected)
    }

    @Test(arguments: [
        ("1.2 - 1.4.5", ">=1.2 <=1.4.5"), (">= 1.2.3, < 2.0 || => 3.0, < 4", ">=1.2.3 <2.0 || =>3.0 <4"),
        ("v1.8.0", "v1.8.0"), ("~> 1.2", "~>1.2"), ("  2.x.x ", "2.x.x"),
    ])
    func normalized(_ text: String, expected: String) throws {
        let constraint = try VersionConstraint(parsing: text)
        #expect(constraint.normalized == expected)
        #expect(constraint.description == text)
    }

    // MARK: Error messages

    @Test(arguments: [
        (">a1", "invalid version constraint \">a1\": \"a1\" is not a valid version"),
        ("", "invalid version constraint \"\": the constraint is empty"),
        ("  ", "invalid version constraint \"  \": the constraint is blank"),
        ("foo", "invalid version constraint \"foo\": \"foo\" is not a valid version"),
        ("1.2.3.4", "invalid version constraint \"1.2.3.4\": \"1.2.3.4\" is not a valid version"),
        ("12.3.34~ 1.2.3", "invalid version constraint \"12.3.34~ 1.2.3\": missing space or comma before \"~\""),
        (">=", "invalid version constraint \">=\": operator \">=\" is not followed by a version"),
        ("1.0,,2.0", "invalid version constraint \"1.0,,2.0\": expected a version after \",\""),
        ("1.0 ||", "invalid version constraint \"1.0 ||\": empty alternative around \"||\""),
        ("1.0 || >y", "invalid version constraint \"1.0 || >y\": \"y\" is not a valid version (in alternative \" >y\")"),
        ("1.2.3-01", "invalid version constraint \"1.2.3-01\": \"1.2.3-01\" is not a valid version: version segment starts with 0: numeric prerelease identifier \"01\" has a leading zero"),
        ("99999999999999999999", "invalid version constraint \"99999999999999999999\": \"99999999999999999999\" is not a valid version: error parsing version segment: \"99999999999999999999\" is out of range for a 64-bit number"),
    ])
    func errorMessages(_ text: String, message: String) {
        do {
            _ = try VersionConstraint(parsing: text)
            Issue.record("\(text.debugDescription) should not parse")
        } catch {
            #expect(error.text == text)
            #expect(error.description == message)
        }
    }
}
