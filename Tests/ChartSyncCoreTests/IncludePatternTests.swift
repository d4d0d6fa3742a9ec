import ChartSyncCore
import Testing

@Suite struct IncludePatternTests {
    @Test(arguments: [
        ("*.yaml", "helmfile.yaml", true), ("*.yaml", "helmfile.yml", false), ("*.yaml", ".hidden.yaml", false),
        (".*.yaml", ".hidden.yaml", true), ("*", "values", true), ("*", ".git", false), ("?.yaml", "a.yaml", true),
        ("?.yaml", "ab.yaml", false), ("app-*-prod.yaml", "app-web-prod.yaml", true), ("app-*-prod.yaml", "app-web-dev.yaml", false),
        ("*a*b*", "xaxxbx", true), ("*a*b*", "xbxa", false), ("helmfile.yaml", "helmfile.yaml", true), ("", "", true),
    ])
    func matchesOneComponent(_ glob: String, _ name: String, _ expected: Bool) {
        #expect(IncludePattern.matches(glob, name: name) == expected)
    }

    @Test func parsesComponentsAndTheTrailingSlash() throws {
        let pattern = try IncludePattern(parsing: "argocd/**/app-*.yaml")
        #expect(pattern.components == [.literal("argocd"), .anyDepth, .wildcard("app-*.yaml")])
        #expect(!pattern.directoryOnly && !pattern.isLiteral)
        let directory = try IncludePattern(parsing: "environments/")
        #expect(directory.components == [.literal("environments")] && directory.directoryOnly && directory.isLiteral)
    }

    @Test(arguments: ["", "/etc/hosts", "~/values.yaml", "../x.yaml", "values/../../x", "./helmfile.yaml", "a//b", "a\\b",
                      "values/[ab].yaml", "{a,b}.yaml", "a**/b", "x\u{1}y"])
    func refusesWhatCouldLeaveTheProjectOrIsAmbiguous(_ text: String) {
        #expect(throws: IncludePatternError.self) { try IncludePattern(parsing: text) }
    }
}
