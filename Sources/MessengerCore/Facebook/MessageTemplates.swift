import Foundation

/// What Meta knows of one page message template: its id, review status and, when rejected, why.
public struct TemplateReview: Equatable, Sendable {
    public let graphID: String?
    public let status: TemplateStatus
    public let reason: String?

    public init(graphID: String?, status: TemplateStatus, reason: String?) {
        self.graphID = graphID
        self.status = status
        self.reason = reason
    }
}

/// Where utility templates are submitted and reviewed (R13): the sandbox's deterministic review or
/// Graph's `/{page-id}/message_templates`.
public protocol TemplateRegistry: Sendable {
    /// Submits a new template, category UTILITY, NAMED parameters with their examples.
    func submit(_ draft: UtilityTemplateDraft, pageID: String, pageToken: String?) throws -> TemplateReview
    /// The template's current review, or nil when Meta doesn't know it (yet).
    func review(name: String, language: String, pageID: String, pageToken: String?) throws -> TemplateReview?
}

/// The sandbox decides at submission, as Meta does for most custom templates within seconds: a
/// template that passes `UtilityRules` is APPROVED, else REJECTED with the first rule's code.
public struct SandboxTemplateRegistry: TemplateRegistry {
    public init() {}

    public func submit(_ draft: UtilityTemplateDraft, pageID: String, pageToken: String?) throws -> TemplateReview {
        Self.decide(draft, pageID: pageID)
    }

    /// The sandbox never changes its mind: there is nothing pending to learn.
    public func review(name: String, language: String, pageID: String, pageToken: String?) throws -> TemplateReview? { nil }

    static func decide(_ draft: UtilityTemplateDraft, pageID: String) -> TemplateReview {
        let id = "tpl_" + String(SandboxTransport.hash(pageID + "/" + draft.name + "/" + draft.language), radix: 16)
        if let rejection = UtilityRules.check(draft).first?.metaReason {
            return TemplateReview(graphID: id, status: .rejected, reason: rejection)
        }
        return TemplateReview(graphID: id, status: .approved, reason: nil)
    }
}

/// Graph: `POST /{page-id}/message_templates` and `GET /{page-id}/message_templates?name=NAME`,
/// with the page token in the Authorization header.
public struct GraphTemplateRegistry: TemplateRegistry {
    let config: GraphConfig
    let http: GraphHTTP

    public init(config: GraphConfig) {
        self.config = config
        http = GraphHTTP(config: config, appSecret: config.appSecret)
    }

    /// The request body, exactly as the endpoint takes it.
    public static func body(_ draft: UtilityTemplateDraft) -> Data {
        var component: [String: Any] = ["type": "BODY", "text": draft.body]
        if !draft.parameters.isEmpty {
            component["example"] = ["body_text_named_params": draft.parameters.map { ["param_name": $0.name, "example": $0.example] }]
        }
        let object: [String: Any] = [
            "name": draft.name, "language": draft.language, "category": "UTILITY",
            "parameter_format": "NAMED", "components": [component],
        ]
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
    }

    public func submit(_ draft: UtilityTemplateDraft, pageID: String, pageToken: String?) throws -> TemplateReview {
        let token = try Self.token(pageToken)
        let answer = try call("POST", config.url(pageID + "/message_templates"), token: token, json: Self.body(draft))
        guard let root = try? JSONSerialization.jsonObject(with: answer) as? [String: Any],
            let id = root["id"].map({ "\($0)" }), let statusText = root["status"] as? String
        else { throw DomainError("the Graph API answered the template submission without an id and a status") }
        guard let status = TemplateStatus(graph: statusText) else {
            throw DomainError("the Graph API gave the template an unknown status \(Display.quoted(statusText))")
        }
        // Meta may file a template under another category; a utility send needs UTILITY.
        if let category = root["category"] as? String, category.uppercased() != "UTILITY" {
            return TemplateReview(
                graphID: Display.safe(id, limit: 64), status: .rejected,
                reason: "Meta filed it as \(Display.safe(category, limit: 20)), not UTILITY")
        }
        return TemplateReview(graphID: Display.safe(id, limit: 64), status: status, reason: nil)
    }

    public func review(name: String, language: String, pageID: String, pageToken: String?) throws -> TemplateReview? {
        let token = try Self.token(pageToken)
        let query = "name=" + name + "&fields=id,name,language,status,rejected_reason"
        let answer = try call("GET", config.url(pageID + "/message_templates?" + query), token: token, json: nil)
        guard let root = try? JSONSerialization.jsonObject(with: answer) as? [String: Any], let data = root["data"] as? [[String: Any]]
        else {
            throw DomainError("the Graph API answered the template query without a data array")
        }
        guard let match = data.first(where: { ($0["name"] as? String) == name && (($0["language"] as? String) ?? language) == language }),
            let statusText = match["status"] as? String, let status = TemplateStatus(graph: statusText)
        else { return nil }
        let reason = (match["rejected_reason"] as? String).flatMap { $0.isEmpty || $0 == "NONE" ? nil : Display.safe($0, limit: 80) }
        return TemplateReview(
            graphID: match["id"].map { Display.safe("\($0)", limit: 64) }, status: status, reason: status == .rejected ? reason : nil)
    }

    private static func token(_ pageToken: String?) throws -> String {
        guard let token = pageToken, !token.isEmpty else {
            throw DomainError("no page token stored for this page: reconnect it (`pages connect`)")
        }
        return token
    }

    private func call(_ method: String, _ url: String, token: String, json: Data?) throws -> Data {
        switch http.perform(method: method, url: url, token: token, json: json) {
        case .failure:
            throw DomainError("can't reach the Graph API at \(config.baseURL): check the address and the network")
        case .success(let answer) where answer.status == 200:
            return answer.body
        case .success(let answer):
            let error = GraphHTTP.graphError(answer.body, status: answer.status, scrubbing: token)
            throw DomainError("the Graph API refused the template request: \(Display.safe(error.reason))")
        }
    }
}
