/// A Helm repository index (index.yaml) after loading: each chart's versions newest first.
public struct IndexFile: Sendable {
    /// The index's top-level `apiVersion`.
    public var apiVersion: String
    /// The `generated` timestamp text, when present.
    public var generated: String?
    /// Chart name to its versions, newest first (file order among equal versions).
    public var entries: [String: [ChartVersion]]
    /// Top-level annotations.
    public var annotations: [String: String]
    /// Every chart name the index lists, also those not read (for suggestions), sorted.
    public var names: [String] = []

    /// Creates an index; `entries` are sorted newest first.
    public init(apiVersion: String = "v1", generated: String? = nil,
                entries: [String: [ChartVersion]] = [:], annotations: [String: String] = [:]) {
        self.apiVersion = apiVersion
        self.generated = generated
        self.annotations = annotations
        self.entries = entries.mapValues(IndexFile.newestFirst)
    }

    /// The versions of one chart, newest first; empty when the chart is not listed.
    public func versions(of chart: String) -> [ChartVersion] { entries[chart] ?? [] }

    /// The versions of `chart` that satisfy `constraint`, newest first.
    /// Without a constraint every stable version matches (Helm's `*`); `includePrerelease` (Helm's
    /// `--devel`) admits prereleases as well.
    public func versions(of chart: String, matching constraint: VersionConstraint?,
                         includePrerelease: Bool = false) -> [ChartVersion] {
        let constraint = constraint ?? .any
        return versions(of: chart).filter {
            constraint.isSatisfied(by: $0.semver, includePrerelease: includePrerelease)
        }
    }

    /// The version Helm would pick: an exact text match of the constraint first, else the newest
    /// version satisfying it; nil when none does.
    public func best(of chart: String, matching constraint: VersionConstraint?,
                     includePrerelease: Bool = false) -> ChartVersion? {
        if let text = constraint?.text, let exact = versions(of: chart).first(where: { $0.version == text }) {
            return exact
        }
        return versions(of: chart, matching: constraint, includePrerelease: includePrerelease).first
    }

    /// Sorts newest first, keeping the file order of versions that compare equal.
    static func newestFirst(_ versions: [ChartVersion]) -> [ChartVersion] {
        versions.enumerated().sorted { a, b in
            if a.element.semver != b.element.semver { return a.element.semver > b.element.semver }
            return a.offset < b.offset
        }.map(\.element)
    }
}

/// How Helm writes chart versions as OCI tags: `+` is not allowed in a tag and becomes `_`.
public enum OCITag {
    /// The tag of `version`.
    public static func of(_ version: String) -> String { String(version.map { $0 == "+" ? "_" : $0 }) }

    /// The version a tag stands for.
    public static func version(of tag: String) -> String { String(tag.map { $0 == "_" ? "+" : $0 }) }

    /// The one tag `helm pull oci://... --version TEXT` pulls without reading the tag list: when
    /// TEXT is itself a version as Masterminds `NewVersion` reads it (`5.20.0`, `v5.20.0`, `0.46`,
    /// `1.0.0+build.7`), Helm takes it as the tag (`+` as `_`), not as a constraint; nil for
    /// any other text (`~0.46`, `>=1`, `*`).
    public static func exact(_ text: String) -> String? {
        guard (try? SemanticVersion(parsing: text)) != nil else { return nil }
        return of(text)
    }
}

extension IndexFile {
    /// The versions an OCI repository's tags stand for, as Helm reads them: `_` in a tag is `+`
    /// in the version (a tag cannot hold `+`), and tags that are not strict semantic versions
    /// (`latest`, `sha256-...`) are ignored. Each version's URL is `repository:TAG`.
    /// With the `version` a chart is asked for that is itself a version (`OCITag.exact`), only
    /// that tag counts, as version `version` (strict or not), as Helm pulls it; none when absent.
    public static func tags(_ tags: [String], of chart: String, repository: String, version asked: String? = nil) -> IndexFile {
        if let asked, let tag = OCITag.exact(asked) {
            guard tags.contains(tag), let semver = try? SemanticVersion(parsing: asked) else { return IndexFile() }
            return IndexFile(entries: [chart: [ChartVersion(name: chart, version: asked, semver: semver, urls: [repository + ":" + tag])]])
        }
        var versions: [ChartVersion] = []
        for tag in tags {
            let text = OCITag.version(of: tag)
            guard let semver = try? SemanticVersion.strict(text) else { continue }
            versions.append(ChartVersion(name: chart, version: text, semver: semver, urls: [repository + ":" + tag]))
        }
        return IndexFile(entries: versions.isEmpty ? [:] : [chart: versions])
    }
}
