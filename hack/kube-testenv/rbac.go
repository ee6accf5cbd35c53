// RBAC for kube-testenv: authorisation of every request from the stored Role/ClusterRole/
// RoleBinding/ClusterRoleBinding objects, the escalation checks on writing them, ClusterRole
// aggregation, static bearer tokens, and the authorization.k8s.io reviews.
//
// Upstream's authorizer, rule resolver and policy-based RBAC storage live in k8s.io/kubernetes,
// which Debian does not ship. What is reimplemented here is only the plumbing around them (which
// bindings apply to a user, the request -> rule mapping); whether a set of rules allows a request or
// covers another set is decided by k8s.io/component-helpers/auth/rbac/validation.Covers, the same
// code upstream's escalation check uses.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/apiserver/pkg/authentication/token/tokenfile"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/client-go/kubernetes"
	rbacv1listers "k8s.io/client-go/listers/rbac/v1"
	"k8s.io/client-go/tools/cache"
	rbacvalidation "k8s.io/component-helpers/auth/rbac/validation"
	"k8s.io/klog/v2"
)

// ---------------------------------------------------------------------------------------------
// rule resolution and the authorizer

type rbacAuthorizer struct {
	roles               rbacv1listers.RoleLister
	roleBindings        rbacv1listers.RoleBindingLister
	clusterRoles        rbacv1listers.ClusterRoleLister
	clusterRoleBindings rbacv1listers.ClusterRoleBindingLister
}

func appliesTo(u user.Info, s rbacv1.Subject, bindingNamespace string) bool {
	switch s.Kind {
	case rbacv1.UserKind:
		return u.GetName() == s.Name
	case rbacv1.GroupKind:
		for _, g := range u.GetGroups() {
			if g == s.Name {
				return true
			}
		}
		return false
	case rbacv1.ServiceAccountKind:
		// as upstream: a subject without namespace means the binding's own namespace
		ns := s.Namespace
		if ns == "" {
			ns = bindingNamespace
		}
		return ns != "" && serviceaccount.MatchesUsername(ns, s.Name, u.GetName())
	}
	return false
}

func (a *rbacAuthorizer) roleRefRules(ref rbacv1.RoleRef, bindingNamespace string) ([]rbacv1.PolicyRule, error) {
	switch ref.Kind {
	case "Role":
		r, err := a.roles.Roles(bindingNamespace).Get(ref.Name)
		if err != nil {
			return nil, err
		}
		return r.Rules, nil
	case "ClusterRole":
		r, err := a.clusterRoles.Get(ref.Name)
		if err != nil {
			return nil, err
		}
		return r.Rules, nil
	}
	return nil, fmt.Errorf("unsupported role reference kind: %q", ref.Kind)
}

// visitRules calls fn for every rule granted to u in namespace ns (cluster-wide bindings first), as
// upstream's DefaultRuleResolver.VisitRulesFor; fn returns false to stop.
func (a *rbacAuthorizer) visitRules(u user.Info, ns string, fn func(source string, rule *rbacv1.PolicyRule, err error) bool) {
	crbs, err := a.clusterRoleBindings.List(labels.Everything())
	if err != nil && !fn("", nil, err) {
		return
	}
	for _, b := range crbs {
		for _, s := range b.Subjects {
			if !appliesTo(u, s, "") {
				continue
			}
			rules, err := a.roleRefRules(b.RoleRef, "")
			if err != nil && !fn("", nil, err) {
				return
			}
			src := fmt.Sprintf("ClusterRoleBinding %q of %s %q to %s %q", b.Name, b.RoleRef.Kind, b.RoleRef.Name, s.Kind, s.Name)
			for i := range rules {
				if !fn(src, &rules[i], nil) {
					return
				}
			}
			break
		}
	}
	if ns == "" {
		return
	}
	rbs, err := a.roleBindings.RoleBindings(ns).List(labels.Everything())
	if err != nil && !fn("", nil, err) {
		return
	}
	for _, b := range rbs {
		for _, s := range b.Subjects {
			if !appliesTo(u, s, ns) {
				continue
			}
			rules, err := a.roleRefRules(b.RoleRef, ns)
			if err != nil && !fn("", nil, err) {
				return
			}
			src := fmt.Sprintf("RoleBinding %q of %s %q to %s %q", b.Namespace+"/"+b.Name, b.RoleRef.Kind, b.RoleRef.Name, s.Kind, s.Name)
			for i := range rules {
				if !fn(src, &rules[i], nil) {
					return
				}
			}
			break
		}
	}
}

func (a *rbacAuthorizer) rulesFor(u user.Info, ns string) ([]rbacv1.PolicyRule, []error) {
	var rules []rbacv1.PolicyRule
	var errs []error
	a.visitRules(u, ns, func(_ string, r *rbacv1.PolicyRule, err error) bool {
		if err != nil {
			errs = append(errs, err)
		} else {
			rules = append(rules, *r)
		}
		return true
	})
	return rules, errs
}

// requestRule is the one-verb, one-resource rule a request needs, so Covers can decide it.
func requestRule(a authorizer.Attributes) rbacv1.PolicyRule {
	if !a.IsResourceRequest() {
		return rbacv1.PolicyRule{Verbs: []string{a.GetVerb()}, NonResourceURLs: []string{a.GetPath()}}
	}
	res := a.GetResource()
	if a.GetSubresource() != "" {
		res += "/" + a.GetSubresource()
	}
	r := rbacv1.PolicyRule{Verbs: []string{a.GetVerb()}, APIGroups: []string{a.GetAPIGroup()}, Resources: []string{res}}
	if a.GetName() != "" {
		r.ResourceNames = []string{a.GetName()}
	}
	return r
}

func (a *rbacAuthorizer) Authorize(_ context.Context, attrs authorizer.Attributes) (authorizer.Decision, string, error) {
	if attrs.GetUser() == nil {
		return authorizer.DecisionNoOpinion, "no user", nil
	}
	want := []rbacv1.PolicyRule{requestRule(attrs)}
	var reason string
	var errs []error
	a.visitRules(attrs.GetUser(), attrs.GetNamespace(), func(src string, r *rbacv1.PolicyRule, err error) bool {
		if err != nil {
			errs = append(errs, err)
			return true
		}
		if ok, _ := rbacvalidation.Covers([]rbacv1.PolicyRule{*r}, want); ok {
			reason = "RBAC: allowed by " + src
			return false
		}
		return true
	})
	if reason != "" {
		return authorizer.DecisionAllow, reason, nil
	}
	if len(errs) > 0 {
		return authorizer.DecisionNoOpinion, fmt.Sprintf("RBAC: %v", errs), nil
	}
	return authorizer.DecisionNoOpinion, "", nil
}

// ---------------------------------------------------------------------------------------------
// escalation checks on writing RBAC objects (upstream: pkg/registry/rbac/*/policybased)

var fullAuthority = []rbacv1.PolicyRule{
	{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}},
	{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}},
}

type rbacGuard struct {
	*genericregistry.Store
	rbac  *rbacAuthorizer
	authz func() authorizer.Authorizer // the server's whole chain (system:masters, RBAC)
}

func escalationAllowed(u user.Info) bool {
	for _, g := range u.GetGroups() {
		if g == user.SystemPrivilegedGroup {
			return true
		}
	}
	return false
}

func (g *rbacGuard) authorized(ctx context.Context, attrs authorizer.AttributesRecord) bool {
	d, _, err := g.authz().Authorize(ctx, attrs)
	return err == nil && d == authorizer.DecisionAllow
}

func (g *rbacGuard) confirmNoEscalation(ctx context.Context, u user.Info, rules []rbacv1.PolicyRule) error {
	ns, _ := genericapirequest.NamespaceFrom(ctx)
	owner, errs := g.rbac.rulesFor(u, ns)
	ok, missing := rbacvalidation.Covers(owner, rules)
	if ok {
		return nil
	}
	var lines []string
	for _, m := range missing {
		lines = append(lines, compactRule(m))
	}
	msg := fmt.Sprintf("user %q (groups=%q) is attempting to grant RBAC permissions not currently held:\n%s", u.GetName(), u.GetGroups(), strings.Join(lines, "\n"))
	if len(errs) > 0 {
		msg += fmt.Sprintf("; resolution errors: %v", errs)
	}
	return errors.New(msg)
}

func compactRule(r rbacv1.PolicyRule) string {
	var parts []string
	add := func(n string, v []string) {
		if len(v) > 0 {
			parts = append(parts, fmt.Sprintf("%s:%q", n, v))
		}
	}
	add("APIGroups", r.APIGroups)
	add("Resources", r.Resources)
	add("ResourceNames", r.ResourceNames)
	add("NonResourceURLs", r.NonResourceURLs)
	add("Verbs", r.Verbs)
	return "{" + strings.Join(parts, ", ") + "}"
}

// onlyGCFields: upstream lets anyone who may update an RBAC object change just ownerReferences and
// finalizers, so the garbage collector can work without escalation rights.
func onlyGCFields(obj, old runtime.Object) bool {
	c := obj.DeepCopyObject()
	cm, om := mustAccessor(c), mustAccessor(old)
	cm.SetOwnerReferences(om.GetOwnerReferences())
	cm.SetFinalizers(om.GetFinalizers())
	cm.SetSelfLink(om.GetSelfLink())
	cm.SetManagedFields(om.GetManagedFields())
	return apiequality.Semantic.DeepEqual(c, old)
}

func (g *rbacGuard) check(ctx context.Context, obj, old runtime.Object) error {
	u, ok := genericapirequest.UserFrom(ctx)
	if !ok {
		return apierrors.NewForbidden(g.DefaultQualifiedResource, "", errors.New("no user"))
	}
	if escalationAllowed(u) || (old != nil && onlyGCFields(obj, old)) {
		return nil
	}
	name := mustAccessor(obj).GetName()
	forbid := func(err error) error { return apierrors.NewForbidden(g.DefaultQualifiedResource, name, err) }
	switch o := obj.(type) {
	case *rbacv1.Role, *rbacv1.ClusterRole:
		info, _ := genericapirequest.RequestInfoFrom(ctx)
		if info != nil && g.authorized(ctx, authorizer.AttributesRecord{User: u, Verb: "escalate", APIGroup: info.APIGroup, APIVersion: "*",
			Resource: info.Resource, Name: info.Name, Namespace: info.Namespace, ResourceRequest: true}) {
			return nil
		}
		var rules []rbacv1.PolicyRule
		var agg, oldAgg *rbacv1.AggregationRule
		if r, ok := o.(*rbacv1.Role); ok {
			rules = r.Rules
		} else {
			cr := o.(*rbacv1.ClusterRole)
			rules, agg = cr.Rules, cr.AggregationRule
			if old != nil {
				oldAgg = old.(*rbacv1.ClusterRole).AggregationRule
			}
		}
		if err := g.confirmNoEscalation(ctx, u, rules); err != nil {
			return forbid(err)
		}
		// an aggregationRule can gather anything, so setting one needs * on *
		if agg != nil && len(agg.ClusterRoleSelectors) > 0 && (old == nil || !apiequality.Semantic.DeepEqual(agg, oldAgg)) {
			if g.confirmNoEscalation(ctx, u, fullAuthority) != nil {
				return forbid(errors.New("must have cluster-admin privileges to use the aggregationRule"))
			}
		}
		return nil
	case *rbacv1.RoleBinding, *rbacv1.ClusterRoleBinding:
		var ref rbacv1.RoleRef
		ns := ""
		if rb, ok := o.(*rbacv1.RoleBinding); ok {
			ref, ns = rb.RoleRef, rb.Namespace
		} else {
			ref = o.(*rbacv1.ClusterRoleBinding).RoleRef
		}
		attrs := authorizer.AttributesRecord{User: u, Verb: "bind", Namespace: ns, APIGroup: ref.APIGroup, Name: ref.Name, ResourceRequest: true}
		switch ref.Kind {
		case "ClusterRole":
			attrs.Resource = "clusterroles"
		case "Role":
			attrs.Resource = "roles"
		}
		if attrs.Resource != "" && g.authorized(ctx, attrs) {
			return nil
		}
		rules, err := g.rbac.roleRefRules(ref, ns)
		if err != nil {
			return forbid(err)
		}
		if err := g.confirmNoEscalation(ctx, u, rules); err != nil {
			return forbid(err)
		}
	}
	return nil
}

func (g *rbacGuard) Create(ctx context.Context, obj runtime.Object, v rest.ValidateObjectFunc, o *metav1.CreateOptions) (runtime.Object, error) {
	if err := g.check(ctx, obj, nil); err != nil {
		return nil, err
	}
	return g.Store.Create(ctx, obj, v, o)
}

func (g *rbacGuard) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, cv rest.ValidateObjectFunc, uv rest.ValidateObjectUpdateFunc, force bool, o *metav1.UpdateOptions) (runtime.Object, bool, error) {
	checked := rest.WrapUpdatedObjectInfo(objInfo, func(ctx context.Context, obj, old runtime.Object) (runtime.Object, error) {
		if old != nil && isEmptyOld(old) {
			old = nil
		}
		return obj, g.check(ctx, obj, old)
	})
	return g.Store.Update(ctx, name, checked, cv, uv, force, o)
}

// isEmptyOld: the generic store passes an empty object as "old" when an update creates (apply).
func isEmptyOld(old runtime.Object) bool {
	m, err := meta.Accessor(old)
	return err == nil && m.GetResourceVersion() == "" && m.GetName() == ""
}

// --- validation (upstream: pkg/apis/rbac/validation, the parts that matter for tests) ---

func validateRoleRef(ref rbacv1.RoleRef, clusterBinding bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if ref.APIGroup != rbacv1.GroupName {
		errs = append(errs, field.NotSupported(p.Child("apiGroup"), ref.APIGroup, []string{rbacv1.GroupName}))
	}
	switch {
	case ref.Kind == "ClusterRole":
	case ref.Kind == "Role" && !clusterBinding:
	default:
		allowed := []string{"ClusterRole"}
		if !clusterBinding {
			allowed = append(allowed, "Role")
		}
		errs = append(errs, field.NotSupported(p.Child("kind"), ref.Kind, allowed))
	}
	if ref.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	}
	return errs
}

func validateSubjects(subjects []rbacv1.Subject, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, s := range subjects {
		sp := p.Index(i)
		if s.Name == "" {
			errs = append(errs, field.Required(sp.Child("name"), ""))
		}
		switch s.Kind {
		case rbacv1.ServiceAccountKind:
			if s.APIGroup != "" {
				errs = append(errs, field.NotSupported(sp.Child("apiGroup"), s.APIGroup, []string{""}))
			}
		case rbacv1.UserKind, rbacv1.GroupKind:
			if s.APIGroup != rbacv1.GroupName {
				errs = append(errs, field.NotSupported(sp.Child("apiGroup"), s.APIGroup, []string{rbacv1.GroupName}))
			}
		default:
			errs = append(errs, field.NotSupported(sp.Child("kind"), s.Kind, []string{rbacv1.ServiceAccountKind, rbacv1.UserKind, rbacv1.GroupKind}))
		}
	}
	return errs
}

func validateBinding(obj, old runtime.Object) field.ErrorList {
	var ref, oldRef rbacv1.RoleRef
	var subjects []rbacv1.Subject
	cluster := false
	switch b := obj.(type) {
	case *rbacv1.RoleBinding:
		ref, subjects = b.RoleRef, b.Subjects
		if old != nil {
			oldRef = old.(*rbacv1.RoleBinding).RoleRef
		}
	case *rbacv1.ClusterRoleBinding:
		ref, subjects, cluster = b.RoleRef, b.Subjects, true
		if old != nil {
			oldRef = old.(*rbacv1.ClusterRoleBinding).RoleRef
		}
	}
	errs := validateRoleRef(ref, cluster, field.NewPath("roleRef"))
	errs = append(errs, validateSubjects(subjects, field.NewPath("subjects"))...)
	if old != nil && ref != oldRef {
		errs = append(errs, field.Invalid(field.NewPath("roleRef"), ref, "cannot change roleRef"))
	}
	return errs
}

func validateRules(obj, _ runtime.Object) field.ErrorList {
	var rules []rbacv1.PolicyRule
	switch r := obj.(type) {
	case *rbacv1.Role:
		rules = r.Rules
	case *rbacv1.ClusterRole:
		rules = r.Rules
	}
	var errs field.ErrorList
	for i, r := range rules {
		p := field.NewPath("rules").Index(i)
		if len(r.Verbs) == 0 {
			errs = append(errs, field.Required(p.Child("verbs"), "verbs must contain at least one value"))
		}
		if len(r.NonResourceURLs) > 0 {
			if _, role := obj.(*rbacv1.Role); role {
				errs = append(errs, field.Invalid(p.Child("nonResourceURLs"), r.NonResourceURLs, "namespaced rules cannot apply to non-resource URLs"))
			}
			if len(r.APIGroups) > 0 || len(r.Resources) > 0 || len(r.ResourceNames) > 0 {
				errs = append(errs, field.Invalid(p.Child("nonResourceURLs"), r.NonResourceURLs, "rules cannot apply to both regular resources and non-resource URLs"))
			}
			continue
		}
		if len(r.APIGroups) == 0 {
			errs = append(errs, field.Required(p.Child("apiGroups"), "resource rules must supply at least one api group"))
		}
		if len(r.Resources) == 0 {
			errs = append(errs, field.Required(p.Child("resources"), "resource rules must supply at least one resource"))
		}
	}
	return errs
}

// ---------------------------------------------------------------------------------------------
// ClusterRole aggregation: a tiny controller, as upstream's clusterrole-aggregation controller,
// writes the union of the selected ClusterRoles' rules into each aggregated ClusterRole's .rules.

func runAggregation(ctx context.Context, lister rbacv1listers.ClusterRoleLister, informer cache.SharedIndexInformer, kc kubernetes.Interface) {
	kick := make(chan struct{}, 1)
	poke := func(interface{}) {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
	if _, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: poke, UpdateFunc: func(_, n interface{}) { poke(n) }, DeleteFunc: poke}); err != nil {
		klog.Errorf("aggregation: %v", err)
		return
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-kick:
			}
			if !cache.WaitForCacheSync(ctx.Done(), informer.HasSynced) {
				return
			}
			if err := aggregateOnce(ctx, lister, kc); err != nil {
				klog.V(2).Infof("aggregation: %v (retrying)", err)
				time.Sleep(200 * time.Millisecond)
				poke(nil)
			}
		}
	}()
}

func aggregateOnce(ctx context.Context, lister rbacv1listers.ClusterRoleLister, kc kubernetes.Interface) error {
	all, err := lister.List(labels.Everything())
	if err != nil {
		return err
	}
	var firstErr error
	for _, cr := range all {
		if cr.AggregationRule == nil || len(cr.AggregationRule.ClusterRoleSelectors) == 0 {
			continue
		}
		var rules []rbacv1.PolicyRule
		for _, sel := range cr.AggregationRule.ClusterRoleSelectors {
			s, err := metav1.LabelSelectorAsSelector(&sel)
			if err != nil {
				continue
			}
			matched, _ := lister.List(s)
			sort.Slice(matched, func(i, j int) bool { return matched[i].Name < matched[j].Name })
			for _, m := range matched {
				if m.Name == cr.Name {
					continue
				}
				for _, r := range m.Rules {
					dup := false
					for _, have := range rules {
						if apiequality.Semantic.DeepEqual(have, r) {
							dup = true
							break
						}
					}
					if !dup {
						rules = append(rules, r)
					}
				}
			}
		}
		if apiequality.Semantic.DeepEqual(rules, cr.Rules) || (len(rules) == 0 && len(cr.Rules) == 0) {
			continue
		}
		upd := cr.DeepCopy()
		upd.Rules = rules
		if _, err := kc.RbacV1().ClusterRoles().Update(ctx, upd, metav1.UpdateOptions{}); err != nil && firstErr == nil && !apierrors.IsNotFound(err) {
			firstErr = err
		}
	}
	return firstErr
}

// ---------------------------------------------------------------------------------------------
// static bearer tokens (--token-auth-file, upstream's CSV format), re-read whenever the file changes
// so tests can add identities to a running server.

type tokenFile struct {
	path   string
	mu     sync.Mutex
	stamp  string
	auth   *tokenfile.TokenAuthenticator
	issued map[string]issuedToken // by TokenRequest, in memory only
}

type issuedToken struct {
	user    user.Info
	expires time.Time
}

func (t *tokenFile) issue(u user.Info, expires time.Time) string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	tok := hex.EncodeToString(b)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.issued == nil {
		t.issued = map[string]issuedToken{}
	}
	now := time.Now()
	for k, v := range t.issued {
		if now.After(v.expires) {
			delete(t.issued, k)
		}
	}
	t.issued[tok] = issuedToken{u, expires}
	return tok
}

func (t *tokenFile) AuthenticateToken(ctx context.Context, token string) (*authenticator.Response, bool, error) {
	t.mu.Lock()
	if it, ok := t.issued[token]; ok && time.Now().Before(it.expires) {
		t.mu.Unlock()
		return &authenticator.Response{User: it.user}, true, nil
	}
	if fi, err := os.Stat(t.path); t.path != "" && err == nil {
		// the inode changes when kube-testenv.sh token replaces the file
		ino := uint64(0)
		if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
			ino = sys.Ino
		}
		if st := fmt.Sprintf("%d/%d/%d", fi.ModTime().UnixNano(), fi.Size(), ino); st != t.stamp {
			if a, err := tokenfile.NewCSV(t.path); err == nil {
				t.auth, t.stamp = a, st
			} else {
				klog.Warningf("token file %s: %v (keeping the previous tokens)", t.path, err)
			}
		}
	}
	a := t.auth
	t.mu.Unlock()
	if a == nil {
		return nil, false, nil
	}
	return a.AuthenticateToken(ctx, token)
}

// ---------------------------------------------------------------------------------------------
// authorization.k8s.io/v1 reviews (upstream: pkg/registry/authorization/*)

type reviewStorage struct {
	kind       string
	namespaced bool
	newObj     func() runtime.Object
	create     func(ctx context.Context, obj runtime.Object) (runtime.Object, error)
}

func (s *reviewStorage) New() runtime.Object     { return s.newObj() }
func (s *reviewStorage) Destroy()                {}
func (s *reviewStorage) NamespaceScoped() bool   { return s.namespaced }
func (s *reviewStorage) GetSingularName() string { return strings.ToLower(s.kind) }
func (s *reviewStorage) Create(ctx context.Context, obj runtime.Object, v rest.ValidateObjectFunc, _ *metav1.CreateOptions) (runtime.Object, error) {
	if v != nil {
		if err := v(ctx, obj); err != nil {
			return nil, err
		}
	}
	return s.create(ctx, obj)
}

var gvAuthz = authorizationv1.SchemeGroupVersion

func reviewAttributes(u user.Info, ra *authorizationv1.ResourceAttributes, nra *authorizationv1.NonResourceAttributes) authorizer.AttributesRecord {
	if ra != nil {
		return authorizer.AttributesRecord{User: u, Verb: ra.Verb, Namespace: ra.Namespace, APIGroup: ra.Group, APIVersion: ra.Version,
			Resource: ra.Resource, Subresource: ra.Subresource, Name: ra.Name, ResourceRequest: true}
	}
	return authorizer.AttributesRecord{User: u, Verb: nra.Verb, Path: nra.Path}
}

func reviewStatus(ctx context.Context, authz authorizer.Authorizer, attrs authorizer.AttributesRecord) authorizationv1.SubjectAccessReviewStatus {
	d, reason, err := authz.Authorize(ctx, attrs)
	st := authorizationv1.SubjectAccessReviewStatus{Allowed: d == authorizer.DecisionAllow, Denied: d == authorizer.DecisionDeny, Reason: reason}
	if err != nil {
		st.EvaluationError = err.Error()
	}
	return st
}

func badReview(kind, msg string) error {
	return apierrors.NewBadRequest(fmt.Sprintf("%s: %s", kind, msg))
}

func reviewStorages(a *rbacAuthorizer, authz func() authorizer.Authorizer) map[string]rest.Storage {
	return map[string]rest.Storage{
		"selfsubjectaccessreviews": &reviewStorage{kind: "SelfSubjectAccessReview", newObj: func() runtime.Object { return &authorizationv1.SelfSubjectAccessReview{} },
			create: func(ctx context.Context, obj runtime.Object) (runtime.Object, error) {
				r := obj.(*authorizationv1.SelfSubjectAccessReview)
				if (r.Spec.ResourceAttributes == nil) == (r.Spec.NonResourceAttributes == nil) {
					return nil, badReview(r.Kind, "exactly one of nonResourceAttributes or resourceAttributes must be specified")
				}
				u, ok := genericapirequest.UserFrom(ctx)
				if !ok {
					return nil, apierrors.NewBadRequest("no user present on request")
				}
				r.Status = reviewStatus(ctx, authz(), reviewAttributes(u, r.Spec.ResourceAttributes, r.Spec.NonResourceAttributes))
				return r, nil
			}},
		"subjectaccessreviews": &reviewStorage{kind: "SubjectAccessReview", newObj: func() runtime.Object { return &authorizationv1.SubjectAccessReview{} },
			create: func(ctx context.Context, obj runtime.Object) (runtime.Object, error) {
				r := obj.(*authorizationv1.SubjectAccessReview)
				if err := validateSAR(r.Spec); err != nil {
					return nil, badReview("SubjectAccessReview", err.Error())
				}
				r.Status = reviewStatus(ctx, authz(), reviewAttributes(sarUser(r.Spec), r.Spec.ResourceAttributes, r.Spec.NonResourceAttributes))
				return r, nil
			}},
		"localsubjectaccessreviews": &reviewStorage{kind: "LocalSubjectAccessReview", namespaced: true, newObj: func() runtime.Object { return &authorizationv1.LocalSubjectAccessReview{} },
			create: func(ctx context.Context, obj runtime.Object) (runtime.Object, error) {
				r := obj.(*authorizationv1.LocalSubjectAccessReview)
				if err := validateSAR(r.Spec); err != nil {
					return nil, badReview("LocalSubjectAccessReview", err.Error())
				}
				ns, _ := genericapirequest.NamespaceFrom(ctx)
				if r.Spec.NonResourceAttributes != nil {
					return nil, badReview("LocalSubjectAccessReview", "disallowed on this kind of request")
				}
				if r.Spec.ResourceAttributes.Namespace != ns || (r.Namespace != "" && r.Namespace != ns) {
					return nil, badReview("LocalSubjectAccessReview", "spec.resourceAttributes.namespace must match metadata.namespace")
				}
				r.Status = reviewStatus(ctx, authz(), reviewAttributes(sarUser(r.Spec), r.Spec.ResourceAttributes, nil))
				return r, nil
			}},
		"selfsubjectrulesreviews": &reviewStorage{kind: "SelfSubjectRulesReview", newObj: func() runtime.Object { return &authorizationv1.SelfSubjectRulesReview{} },
			create: func(ctx context.Context, obj runtime.Object) (runtime.Object, error) {
				r := obj.(*authorizationv1.SelfSubjectRulesReview)
				if r.Spec.Namespace == "" {
					return nil, badReview("SelfSubjectRulesReview", "no namespace on request")
				}
				u, ok := genericapirequest.UserFrom(ctx)
				if !ok {
					return nil, apierrors.NewBadRequest("no user present on request")
				}
				r.Status = rulesReviewStatus(a, u, r.Spec.Namespace)
				return r, nil
			}},
	}
}

func validateSAR(s authorizationv1.SubjectAccessReviewSpec) error {
	if (s.ResourceAttributes == nil) == (s.NonResourceAttributes == nil) {
		return errors.New("exactly one of nonResourceAttributes or resourceAttributes must be specified")
	}
	if s.User == "" && len(s.Groups) == 0 {
		return errors.New("at least one of user or group must be specified")
	}
	return nil
}

func sarUser(s authorizationv1.SubjectAccessReviewSpec) user.Info {
	extra := map[string][]string{}
	for k, v := range s.Extra {
		extra[k] = v
	}
	return &user.DefaultInfo{Name: s.User, UID: s.UID, Groups: s.Groups, Extra: extra}
}

// rulesReviewStatus lists RBAC rules only: system:masters' unconditional access is not a rule, as
// upstream (kubectl auth can-i --list then shows what RBAC grants the user).
func rulesReviewStatus(a *rbacAuthorizer, u user.Info, ns string) authorizationv1.SubjectRulesReviewStatus {
	rules, errs := a.rulesFor(u, ns)
	st := authorizationv1.SubjectRulesReviewStatus{ResourceRules: []authorizationv1.ResourceRule{}, NonResourceRules: []authorizationv1.NonResourceRule{}}
	for _, r := range rules {
		if len(r.NonResourceURLs) > 0 {
			st.NonResourceRules = append(st.NonResourceRules, authorizationv1.NonResourceRule{Verbs: r.Verbs, NonResourceURLs: r.NonResourceURLs})
		} else {
			st.ResourceRules = append(st.ResourceRules, authorizationv1.ResourceRule{Verbs: r.Verbs, APIGroups: r.APIGroups, Resources: r.Resources, ResourceNames: r.ResourceNames})
		}
	}
	if len(errs) > 0 {
		st.Incomplete = true
		st.EvaluationError = fmt.Sprint(errs)
	}
	return st
}

// ---------------------------------------------------------------------------------------------
// bootstrap policy: the roles and bindings every cluster has (upstream: bootstrappolicy), limited
// to the resources this server serves.

const aggLabel = "rbac.authorization.k8s.io/aggregate-to-"

func rule(verbs string, groups string, resources ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: strings.Fields(verbs), APIGroups: strings.Split(groups, ","), Resources: resources}
}

func nonResource(verbs string, urls ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: strings.Fields(verbs), NonResourceURLs: urls}
}

func bootstrapRBAC() ([]*rbacv1.ClusterRole, []*rbacv1.ClusterRoleBinding) {
	const (
		read  = "get list watch"
		write = "create delete deletecollection patch update"
	)
	meta := func(name string, lbl ...string) metav1.ObjectMeta {
		m := metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/bootstrapping": "rbac-defaults"},
			Annotations: map[string]string{"rbac.authorization.kubernetes.io/autoupdate": "true"}}
		for _, l := range lbl {
			m.Labels[aggLabel+l] = "true"
		}
		return m
	}
	agg := func(name string) *rbacv1.AggregationRule {
		return &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{aggLabel + name: "true"}}}}
	}
	viewRules := []rbacv1.PolicyRule{
		rule(read, "", "configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "pods", "replicationcontrollers",
			"replicationcontrollers/scale", "serviceaccounts", "services", "services/status"),
		rule(read, "", "bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status", "replicationcontrollers/status",
			"resourcequotas", "resourcequotas/status"),
		rule(read, "", "namespaces"),
		rule(read, "discovery.k8s.io", "endpointslices"),
		rule(read, "apps", "controllerrevisions", "daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status",
			"replicasets", "replicasets/scale", "replicasets/status", "statefulsets", "statefulsets/scale", "statefulsets/status"),
		rule(read, "autoscaling", "horizontalpodautoscalers", "horizontalpodautoscalers/status"),
		rule(read, "batch", "cronjobs", "cronjobs/status", "jobs", "jobs/status"),
		rule(read, "policy", "poddisruptionbudgets", "poddisruptionbudgets/status"),
		rule(read, "networking.k8s.io", "ingresses", "ingresses/status", "networkpolicies"),
	}
	editRules := []rbacv1.PolicyRule{
		rule("impersonate", "", "serviceaccounts"),
		rule(write, "", "pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward"),
		rule("create", "", "pods/eviction"),
		rule(write, "", "configmaps", "events", "persistentvolumeclaims", "replicationcontrollers", "replicationcontrollers/scale", "secrets",
			"serviceaccounts", "services", "services/proxy"),
		rule("create", "", "serviceaccounts/token"),
		rule(write, "apps", "daemonsets", "deployments", "deployments/rollback", "deployments/scale", "replicasets", "replicasets/scale",
			"statefulsets", "statefulsets/scale"),
		rule(write, "autoscaling", "horizontalpodautoscalers"),
		rule(write, "batch", "cronjobs", "jobs"),
		rule(write, "networking.k8s.io", "ingresses", "networkpolicies"),
		rule(write, "policy", "poddisruptionbudgets"),
		rule(write, "coordination.k8s.io", "leases"),
		rule(read, "", "secrets", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "services/proxy"),
		rule(read, "coordination.k8s.io", "leases"),
	}
	adminRules := []rbacv1.PolicyRule{
		rule("create", "authorization.k8s.io", "localsubjectaccessreviews"),
		rule(read+" "+write, "rbac.authorization.k8s.io", "rolebindings", "roles"),
	}
	roles := []*rbacv1.ClusterRole{
		{ObjectMeta: meta("cluster-admin"), Rules: []rbacv1.PolicyRule{rule("*", "*", "*"), nonResource("*", "*")}},
		{ObjectMeta: meta("admin"), AggregationRule: agg("admin")},
		{ObjectMeta: meta("edit", "admin"), AggregationRule: agg("edit")},
		{ObjectMeta: meta("view", "edit"), AggregationRule: agg("view")},
		{ObjectMeta: meta("system:aggregate-to-admin", "admin"), Rules: adminRules},
		{ObjectMeta: meta("system:aggregate-to-edit", "edit"), Rules: editRules},
		{ObjectMeta: meta("system:aggregate-to-view", "view"), Rules: viewRules},
		{ObjectMeta: meta("system:discovery"), Rules: []rbacv1.PolicyRule{nonResource("get", "/api", "/api/*", "/apis", "/apis/*",
			"/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/")}},
		{ObjectMeta: meta("system:basic-user"), Rules: []rbacv1.PolicyRule{
			rule("create", "authorization.k8s.io", "selfsubjectaccessreviews", "selfsubjectrulesreviews"),
			rule("create", "authentication.k8s.io", "selfsubjectreviews")}},
		{ObjectMeta: meta("system:public-info-viewer"), Rules: []rbacv1.PolicyRule{nonResource("get", "/healthz", "/livez", "/readyz", "/version", "/version/")}},
	}
	group := func(n string) rbacv1.Subject {
		return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: n}
	}
	bind := func(name string, subjects ...rbacv1.Subject) *rbacv1.ClusterRoleBinding {
		return &rbacv1.ClusterRoleBinding{ObjectMeta: meta(name), RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name}, Subjects: subjects}
	}
	bindings := []*rbacv1.ClusterRoleBinding{
		bind("cluster-admin", group(user.SystemPrivilegedGroup)),
		bind("system:discovery", group(user.AllAuthenticated)),
		bind("system:basic-user", group(user.AllAuthenticated)),
		bind("system:public-info-viewer", group(user.AllAuthenticated), group(user.AllUnauthenticated)),
	}
	return roles, bindings
}

func createBootstrapRBAC(ctx context.Context, kc kubernetes.Interface) error {
	roles, bindings := bootstrapRBAC()
	return wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		for _, r := range roles {
			if _, err := kc.RbacV1().ClusterRoles().Create(ctx, r, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				klog.V(2).Infof("bootstrap: clusterrole %s: %v", r.Name, err)
				return false, nil
			}
		}
		for _, b := range bindings {
			if _, err := kc.RbacV1().ClusterRoleBindings().Create(ctx, b, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				klog.V(2).Infof("bootstrap: clusterrolebinding %s: %v", b.Name, err)
				return false, nil
			}
		}
		return true, nil
	})
}

// ---------------------------------------------------------------------------------------------
// serviceaccounts/token (TokenRequest) and authentication.k8s.io SelfSubjectReview

// tokenRequest issues opaque bearer tokens (not JWTs: there is no signing key or issuer here) for
// existing ServiceAccounts, valid in this server's memory until they expire.
type tokenRequest struct {
	serviceAccounts rest.Getter
	tokens          *tokenFile
}

func (r *tokenRequest) New() runtime.Object     { return &authenticationv1.TokenRequest{} }
func (r *tokenRequest) Destroy()                {}
func (r *tokenRequest) NamespaceScoped() bool   { return true }
func (r *tokenRequest) GetSingularName() string { return "token" }
func (r *tokenRequest) GroupVersionKind(schema.GroupVersion) schema.GroupVersionKind {
	return authenticationv1.SchemeGroupVersion.WithKind("TokenRequest")
}

func (r *tokenRequest) Create(ctx context.Context, name string, obj runtime.Object, v rest.ValidateObjectFunc, _ *metav1.CreateOptions) (runtime.Object, error) {
	if v != nil {
		if err := v(ctx, obj); err != nil {
			return nil, err
		}
	}
	o, err := r.serviceAccounts.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	sa := o.(*corev1.ServiceAccount)
	req := obj.(*authenticationv1.TokenRequest).DeepCopy()
	if req.Spec.ExpirationSeconds == nil {
		h := int64(3600)
		req.Spec.ExpirationSeconds = &h
	}
	if *req.Spec.ExpirationSeconds < 600 {
		return nil, apierrors.NewInvalid(authenticationv1.SchemeGroupVersion.WithKind("TokenRequest").GroupKind(), name,
			field.ErrorList{field.Invalid(field.NewPath("spec", "expirationSeconds"), *req.Spec.ExpirationSeconds, "may not specify a duration less than 10 minutes")})
	}
	if len(req.Spec.Audiences) == 0 {
		req.Spec.Audiences = []string{"https://kubernetes.default.svc.cluster.local"}
	}
	expires := time.Now().Add(time.Duration(*req.Spec.ExpirationSeconds) * time.Second).Truncate(time.Second)
	req.Status = authenticationv1.TokenRequestStatus{
		Token:               r.tokens.issue(serviceaccount.UserInfo(sa.Namespace, sa.Name, string(sa.UID)), expires),
		ExpirationTimestamp: metav1.NewTime(expires),
	}
	return req, nil
}

func selfSubjectReviews() map[string]rest.Storage {
	return map[string]rest.Storage{
		"selfsubjectreviews": &reviewStorage{kind: "SelfSubjectReview", newObj: func() runtime.Object { return &authenticationv1.SelfSubjectReview{} },
			create: func(ctx context.Context, obj runtime.Object) (runtime.Object, error) {
				u, ok := genericapirequest.UserFrom(ctx)
				if !ok {
					return nil, apierrors.NewBadRequest("no user present on request")
				}
				r := obj.(*authenticationv1.SelfSubjectReview)
				r.Status.UserInfo = authenticationv1.UserInfo{Username: u.GetName(), UID: u.GetUID(), Groups: u.GetGroups()}
				for k, v := range u.GetExtra() {
					if r.Status.UserInfo.Extra == nil {
						r.Status.UserInfo.Extra = map[string]authenticationv1.ExtraValue{}
					}
					r.Status.UserInfo.Extra[k] = v
				}
				return r, nil
			}},
	}
}
