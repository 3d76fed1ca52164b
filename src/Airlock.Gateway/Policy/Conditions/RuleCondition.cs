namespace Airlock.Gateway.Policy.Conditions;

/// <summary>
/// One compiled condition of a rule's <c>when</c>. Conditions are built once per policy load and
/// evaluated per request without compiling or allocating anything of their own.
/// </summary>
internal abstract class RuleCondition
{
    /// <summary>The key in the policy file, e.g. <c>methods</c>; explanations start with it.</summary>
    public abstract string Key { get; }

    /// <summary>Whether evaluating this condition needs the request body.</summary>
    public virtual bool NeedsBody => false;

    /// <summary>Whether this condition needs the body of this request (a body not yet read),
    /// though it does not need every request's: asked only when <see cref="NeedsBody"/> is false.</summary>
    public virtual bool NeedsBodyOf(RequestFacts facts) => false;

    /// <param name="strict">True for allow rules: compare exactly (letter case included). Deny and
    /// review rules compare loosely, so a variant spelling cannot slip past them.</param>
    public abstract Verdict Evaluate(RequestFacts facts, bool strict);

    /// <summary>What the condition asks, as the policy file says it (<c>methods: POST, PUT</c>):
    /// shown with a rule that matched, e.g. to the approver of a request it held.</summary>
    public abstract string Describe();

    /// <summary>Why the condition does not hold for this request, in words for a person.</summary>
    public abstract string Explain(RequestFacts facts, bool strict);

    /// <summary>Why the condition was <see cref="Verdict.Ambiguous"/> for this request (a clause:
    /// "the JSON body repeats a key"), for the answer a deny or review rule gives because of it.
    /// Only called on that slow path.</summary>
    public virtual string WhyAmbiguous(RequestFacts facts) => $"the request's {Key} can be read more than one way";
}
