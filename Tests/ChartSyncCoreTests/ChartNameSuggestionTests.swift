import ChartSyncCore
import Testing

/// "Did you mean" hints for a chart name that is not in the repository.
@Suite struct ChartNameSuggestionTests {
    static let names = ["argo-cd", "argo-workflows", "argo-events", "gpu-operator", "grafana", "kube-prometheus-stack",
                        "nvidia-device-plugin", "prometheus", "tempo"]

    @Test(arguments: [
        ("grafna", ["grafana"]),                      // a letter dropped
        ("Grafana", ["grafana"]),                     // case
        ("argo-cdd", ["argo-cd"]),                    // a letter added
        ("argocd", ["argo-cd"]),                      // the dash forgotten
        ("prometheus-stack", ["kube-prometheus-stack", "prometheus"]),  // a part of the name, or a name in it
        ("nvidia-device", ["nvidia-device-plugin"]),
        ("tempo2", ["tempo"]),
        ("zookeeper", []),                            // nothing close
        ("x", []),
    ])
    func suggestions(_ name: String, _ expected: [String]) {
        #expect(ChartName.nearest(to: name, in: Self.names) == expected)
    }

    @Test func atMostThreeClosestFirst() {
        #expect(ChartName.nearest(to: "argo-event", in: Self.names).first == "argo-events")
        #expect(ChartName.nearest(to: "a", in: ["b", "c", "d", "e"]).count <= 3)
    }
}
