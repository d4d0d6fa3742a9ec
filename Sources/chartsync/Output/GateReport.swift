import ChartSync
import Foundation

/// The working-tree gate's result in the forms CI systems read: the `verify --json` document
/// (schema `chartsync.verify.v1`, docs/verify-report.md), JUnit XML and GitHub Actions
/// annotations. Built from a verification or from the failure that stopped it.
struct GateReport {
    /// The project root.
    let root: String
    /// The chart list's file name.
    let chartList: String
    /// The verification; nil when the gate could not run.
    let verification: TreeVerification?
    /// What stopped the gate, if anything.
    let failure: Failure?
    /// How long the gate took.
    let seconds: Double

    /// The exit code the gate ends with.
    var exitCode: ExitStatus {
        if let failure { return failure.code }
        switch verification?.failureKind {
        case nil: return .success
        case .io?: return .ioFailure
        default: return .verificationFailed
        }
    }

    /// `passed`, `failed` or `error`.
    var status: String { failure != nil ? "error" : exitCode == .success ? "passed" : "failed" }

    // MARK: - JSON

    /// The `verify --json` document (schema `chartsync.verify.v1`).
    struct Document: Encodable {
        /// Totals.
        struct Summary: Encodable {
            /// Charts versions.lock lists.
            let charts: Int
            /// Files checked.
            let files: Int
            /// Bytes hashed.
            let bytes: Int64
            /// Findings.
            let problems: Int
            /// images.lock: `checked`, `skipped` (the charts failed, and it is worked out from
            /// them), or `none` (no images.lock and no images section).
            let images: String
            /// Length of warnings.
            let warnings: Int
        }

        /// The helmfile checked, when there is one.
        struct Helmfile: Encodable {
            /// The helmfile named or found, relative to the root.
            let file: String
            /// Every helmfile file read (sub-helmfiles, bases), relative to the root.
            let files: [String]
            /// Releases whose chart was checked.
            let releases: Int
        }

        /// One locked chart and whether it passed.
        struct Chart: Encodable {
            /// The chart's name.
            let name: String
            /// The locked version.
            let version: String
            /// The tarball, relative to the root.
            let file: String
            /// The unpacked directory, when the chart is unpacked.
            let directory: String?
            /// `passed` or `failed`.
            let status: String
        }

        /// One finding: what was expected and what was found.
        struct Problem: Encodable {
            /// The check that found it (charts, lock, images).
            let check: String
            /// The finding's stable code.
            let code: String
            /// `verification` or `io`.
            let kind: String
            /// The file concerned, relative to the root.
            let file: String
            /// The line in that file, when known.
            let line: Int?
            /// The chart concerned, when one is.
            let chart: String?
            /// What was expected.
            let expected: String
            /// What was found.
            let actual: String
            /// The finding in words.
            let message: String
            /// Store findings: the images that need the blob (omitted when none).
            let images: [String]?
            /// Helmfile findings: the release concerned (omitted when none).
            let release: String?

            /// A finding as the document shows it.
            init(_ finding: TreeFinding) {
                check = finding.check.rawValue
                code = finding.code.rawValue
                kind = finding.isWarning ? "warning" : finding.kind == .io ? "io" : "verification"
                file = finding.file
                line = finding.line
                chart = finding.chart
                expected = finding.expected
                actual = finding.actual
                message = finding.message
                images = finding.images.isEmpty ? nil : finding.images
                release = finding.release
            }
        }

        /// The schema's name and version.
        let schema = "chartsync.verify.v1"
        /// `passed`, `failed` or `error`.
        let status: String
        /// The exit code.
        let exitCode: Int32
        /// The project root.
        let root: String
        /// The chart list's file name.
        let chartList: String
        /// The lock file's name.
        let lock = "versions.lock"
        /// Totals.
        let summary: Summary
        /// Every locked chart.
        let charts: [Chart]
        /// Every finding.
        let problems: [Problem]
        /// Every warning (a template not evaluated, a remote file not read): never a failure.
        let warnings: [Problem]
        /// The helmfile checked, when there is one.
        let helmfile: Helmfile?
        /// What stopped the gate, when it could not run.
        let error: String?
    }

    /// The report as the JSON document.
    var document: Document {
        let findings = verification?.findings ?? []
        return Document(
            status: status, exitCode: exitCode.rawValue, root: root, chartList: chartList,
            summary: .init(charts: verification?.charts.count ?? 0, files: verification?.files ?? 0,
                           bytes: verification?.bytes ?? 0, problems: findings.count,
                           images: verification?.imagesChecked == true ? "checked"
                               : verification?.imagesSkipped == true ? "skipped" : "none",
                           warnings: verification?.warnings.count ?? 0),
            charts: (verification?.charts ?? []).map {
                .init(name: $0.name, version: $0.version, file: $0.file, directory: $0.directory, status: $0.passed ? "passed" : "failed")
            },
            problems: findings.map { Document.Problem($0) },
            warnings: (verification?.warnings ?? []).map { Document.Problem($0) },
            helmfile: verification.flatMap { v in v.helmfile.map { Document.Helmfile(file: $0, files: v.helmfileFiles, releases: v.releases) } },
            error: failure?.message)
    }

    // MARK: - JUnit

    /// One JUnit test case per locked chart, one for "nothing unlisted in charts/external" and
    /// one for "versions.lock matches the chart list"; a finding fails the case it belongs to
    /// (`<failure>` for a mismatch, `<error>` when a file could not be read). A run that could
    /// not check anything is one case with an `<error>`.
    var junit: String {
        typealias Case = (classname: String, name: String, file: String, findings: [TreeFinding], warnings: [TreeFinding])
        var cases: [Case] = []
        var errorOnly: String?
        if let verification {
            var byChart: [String: [TreeFinding]] = [:]
            var unlisted: [TreeFinding] = []
            var lock: [TreeFinding] = []
            var images: [TreeFinding] = []
            var store: [TreeFinding] = []
            var helmfile: [String: [TreeFinding]] = [:]
            for finding in verification.findings {
                if finding.check == .helmfile {
                    helmfile[finding.file, default: []].append(finding)
                } else if finding.check == .store {
                    store.append(finding)
                } else if finding.check == .images {
                    images.append(finding)
                } else if finding.check == .lock {
                    lock.append(finding)
                } else if let chart = finding.chart, verification.charts.contains(where: { $0.name == chart }) {
                    byChart[chart, default: []].append(finding)
                } else {
                    unlisted.append(finding)
                }
            }
            for chart in verification.charts {
                cases.append(("chartsync.verify.charts", "\(chart.name) \(chart.version)", chart.file, byChart[chart.name] ?? [], []))
            }
            cases.append(("chartsync.verify.charts", "charts/external holds only what versions.lock lists", "charts/external", unlisted, []))
            cases.append(("chartsync.verify.lock", "versions.lock matches \(chartList)", "versions.lock", lock, []))
            if verification.imagesChecked || verification.imagesSkipped {
                cases.append(("chartsync.verify.images", "images.lock matches the charts", "images.lock", images, []))
            }
            if verification.storeChecked {
                cases.append(("chartsync.verify.store", "images/ holds exactly the images of images.lock", "images", store, []))
            }
            // One case per helmfile file read (or named by a finding); warnings go to its system-out.
            if verification.helmfile != nil {
                var files = verification.helmfileFiles
                for file in (helmfile.keys.sorted() + verification.warnings.map(\.file)) where !files.contains(file) { files.append(file) }
                for file in files {
                    cases.append(("chartsync.verify.helmfile", "\(file): releases use vendored or custom charts", file,
                                  helmfile[file] ?? [], verification.warnings.filter { $0.file == file }))
                }
            }
        } else {
            errorOnly = failure?.message ?? "not run"
        }
        let failures = cases.filter { $0.findings.contains { $0.kind == .verification } }.count
        let errors = errorOnly != nil ? 1 : cases.filter { !$0.findings.isEmpty && !$0.findings.contains { $0.kind == .verification } }.count
        let tests = errorOnly != nil ? 1 : cases.count
        let time = String(format: "%.3f", seconds)
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml += "<testsuites name=\"chartsync verify\" tests=\"\(tests)\" failures=\"\(failures)\" errors=\"\(errors)\" time=\"\(time)\">\n"
        let skipped = verification?.imagesSkipped == true ? 1 : 0
        xml += "  <testsuite name=\"chartsync verify \(XML.escape(root))\" tests=\"\(tests)\" failures=\"\(failures)\" errors=\"\(errors)\" skipped=\"\(skipped)\" time=\"\(time)\">\n"
        if let errorOnly {
            xml += "    <testcase classname=\"chartsync.verify\" name=\"chartsync verify\" file=\"\(XML.escape(chartList))\" time=\"\(time)\">\n"
            xml += "      <error type=\"exit-\(exitCode.rawValue)\" message=\"\(XML.escape(errorOnly))\">\(XML.escape(errorOnly))</error>\n"
            xml += "    </testcase>\n"
        }
        for c in cases {
            let attributes = "classname=\"\(c.classname)\" name=\"\(XML.escape(c.name))\" file=\"\(XML.escape(c.file))\""
            if c.classname == "chartsync.verify.images", verification?.imagesSkipped == true {
                xml += "    <testcase \(attributes) time=\"0\">\n      <skipped message=\"not checked: the charts failed, and images.lock is worked out from them\"/>\n    </testcase>\n"
                continue
            }
            let output = c.warnings.isEmpty ? ""
                : "      <system-out>\(XML.escape(c.warnings.map { "warning: \($0.description)" }.joined(separator: "\n")))</system-out>\n"
            guard let first = c.findings.first else {
                xml += output.isEmpty ? "    <testcase \(attributes) time=\"0\"/>\n" : "    <testcase \(attributes) time=\"0\">\n\(output)    </testcase>\n"
                continue
            }
            let element = c.findings.contains { $0.kind == .verification } ? "failure" : "error"
            let message = first.description + (c.findings.count > 1 ? " (and \(c.findings.count - 1) more)" : "")
            let body = c.findings.map { "\($0.description)\n  expected: \($0.expected)\n  actual:   \($0.actual)" }.joined(separator: "\n")
            xml += "    <testcase \(attributes) time=\"0\">\n"
            xml += "      <\(element) type=\"\(first.code.rawValue)\" message=\"\(XML.escape(message))\">\(XML.escape(body))</\(element)>\n"
            xml += output + "    </testcase>\n"
        }
        xml += "  </testsuite>\n</testsuites>\n"
        return xml
    }

    // MARK: - GitHub Actions

    /// `::error` workflow commands, one per problem, with the file as GitHub shows it (relative
    /// to GITHUB_WORKSPACE when the project is under it).
    func annotations(workspace: String?) -> [String] {
        func shown(_ file: String) -> String {
            let absolute = root + "/" + file
            if let workspace, absolute.hasPrefix(workspace + "/") { return String(absolute.dropFirst(workspace.count + 1)) }
            return Paths.display(absolute)
        }
        guard let verification else {
            return ["::error file=\(GitHub.property(shown(chartList))),title=chartsync verify::\(GitHub.data(failure?.message ?? "not run"))"]
        }
        return (verification.findings + verification.warnings).map { finding in
            var properties = "file=\(GitHub.property(shown(finding.file)))"
            if let line = finding.line { properties += ",line=\(line)" }
            properties += ",title=\(GitHub.property("chartsync verify: \(finding.code.rawValue)"))"
            return "::\(finding.isWarning ? "warning" : "error") \(properties)::\(GitHub.data(finding.message))"
        }
    }

    // MARK: - Text

    /// The human report: every problem, then a summary line.
    var lines: [String] {
        guard let verification else { return [] }
        func line(_ finding: TreeFinding) -> String {
            Paths.display(root + "/" + finding.file) + (finding.line.map { ":\($0)" } ?? "") + ": "
                + (finding.isWarning ? "warning: " : "") + finding.message
        }
        var lines = verification.findings.map(line) + verification.warnings.map(line)
        let warnings = verification.warnings.isEmpty ? "" : "; \(verification.warnings.count) warning(s)"
        if verification.passed {
            lines.append("verified \(verification.charts.count) chart(s), \(verification.files) file(s), \(verification.bytes) bytes against versions.lock; versions.lock matches \(chartList)"
                + (verification.imagesChecked ? "; images.lock matches the charts" : "")
                + (verification.helmfile.map { "; the \(verification.releases) release(s) of \($0) use vendored or custom charts" } ?? "")
                + warnings)
        } else {
            let charts = Set(verification.findings.filter { $0.check != .helmfile }.compactMap(\.chart)).count
            let releases = Set(verification.findings.compactMap(\.release)).count
            lines.append("\(verification.findings.count) problem(s)\(charts > 0 ? " concerning \(charts) chart(s)" : "")"
                + (releases > 0 ? "\(charts > 0 ? " and" : " concerning") \(releases) helmfile release(s)" : "")
                + "; \(verification.charts.count) chart(s) locked"
                + (verification.imagesSkipped ? "; images.lock not checked (the charts failed, and it is worked out from them)" : "")
                + warnings)
        }
        return lines
    }
}

/// XML text and attribute escaping (characters XML 1.0 cannot hold are replaced).
enum XML {
    /// `text` as XML character data or attribute value.
    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n", "\t": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || (0xFFFE...0xFFFF).contains(scalar.value) {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}

/// Escaping for GitHub Actions workflow commands.
enum GitHub {
    /// The message part.
    static func data(_ text: String) -> String {
        text.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\r", with: "%0D")
            .replacingOccurrences(of: "\n", with: "%0A")
    }

    /// A property value (also `:` and `,`).
    static func property(_ text: String) -> String {
        data(text).replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: ",", with: "%2C")
    }
}
