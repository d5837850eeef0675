using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using WirralCareRecord.Gateway.Agreements;
using WirralCareRecord.Gateway.Onboarding;

namespace WirralCareRecord.Gateway.Authentication;

/// <summary>The caller's organisation must hold a sharing agreement in force today, as a consumer.</summary>
public sealed class ActiveAgreementRequirement : IAuthorizationRequirement;

internal sealed class ActiveAgreementHandler(IOrganisationRegistry registry, TimeProvider time, IOptions<GatewayAuthenticationOptions> options)
    : AuthorizationHandler<ActiveAgreementRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ActiveAgreementRequirement requirement)
    {
        var caller = CallerIdentity.From(context.User, options.Value);
        if (caller is null)
        {
            return Task.CompletedTask;
        }

        // A CIS2 token whose selected role cannot be used has no organisation for a reason the token, not the registry, explains.
        var decision = caller.OrganisationRefusal is { } refusal
            ? new ConsumerDecision(false, refusal, null)
            : SharingRules.CanConsume(registry.Current, caller.OdsCode, UkDate.Today(time));
        if (decision.Allowed)
        {
            context.Succeed(requirement);
        }
        else
        {
            context.Fail(new AuthorizationFailureReason(this, decision.Reason));
        }

        return Task.CompletedTask;
    }
}

/// <summary>The caller must hold one of the roles; says which in the refusal.</summary>
public sealed class GatewayRoleRequirement(params string[] roles) : IAuthorizationRequirement
{
    public IReadOnlyList<string> Roles { get; } = roles;

    /// <summary>The roles in words, for refusals: "Operator or OnboardingAdmin".</summary>
    public string Describe() => string.Join(" or ", Roles);
}

internal sealed class GatewayRoleHandler(IOptions<GatewayAuthenticationOptions> options) : AuthorizationHandler<GatewayRoleRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, GatewayRoleRequirement requirement)
    {
        var caller = CallerIdentity.From(context.User, options.Value);
        if (caller is not null && requirement.Roles.Any(caller.HasRole))
        {
            context.Succeed(requirement);
        }
        else if (caller is not null)
        {
            context.Fail(new AuthorizationFailureReason(this, caller.RoleRefusal(requirement.Describe())));
        }

        return Task.CompletedTask;
    }
}
