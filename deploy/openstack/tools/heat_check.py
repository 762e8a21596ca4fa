"""Validate Heat templates offline, in process, with Heat's own engine code.

    python heat_check.py TEMPLATE ENVIRONMENT... [--variant NAME:PARAM=VALUE] [--self-test]

What runs is what `openstack stack create` gets to before it creates anything:

* python-heatclient's template_utils read the template, the environment files, their
  resource_registry (nested templates) and every get_file, the way the client does before
  it sends the stack to Heat (a missing file fails here);
* heat.common.template_format parses the template (Heat's YAML loader and its checks of the
  sections); a key given twice in one mapping, which YAML silently lets through, fails;
* heat.engine.template.Template / heat.engine.stack.Stack build the stack against the
  resource registry of the heat-engine package (every OS::* type of this Heat release plus
  the environment's own types) and stack.validate() runs, strictly, as on create: the
  parameters against their constraints, every intrinsic function (get_param, get_attr of
  an attribute the resource type has, get_resource, str_replace_strict, yaql, if and the
  conditions), every resource's properties against its type's schema (an unknown property,
  a missing required one, a value of the wrong type, a value outside the allowed ones or a
  range), update and deletion policies, and the outputs.
* Nested stacks (the AutoScalingGroup's members, which are Innkeep::AppNode template
  resources, and the Innkeep::DataNode resources) are built the way Heat builds them and
  validated too. Heat itself checks property values in nested stacks only when it creates
  them; here they are checked strictly at once (with the values the parent passes; a value
  that only exists after creation, such as an address, is empty at this point).

What cannot run offline is stubbed, and counted in the summary: the lookups that custom
constraints such as nova.flavor, glance.image or neutron.network make in the cloud's APIs
(they are taken as found), a Server's check that its image fits its flavor, Nova's limits
(its default of 128 metadata items) and microversions (all supported), Neutron's
extensions and the service catalogue (all present). Any other attempt to reach a cloud
fails the run, naming the call.

--self-test then breaks copies of the templates (BREAKAGES) and requires each to be
rejected for the expected reason.
"""

import argparse
import collections
import logging
import os
import shutil
import sys
import tempfile
import traceback
import warnings

warnings.simplefilter("ignore")
logging.basicConfig(level=logging.CRITICAL)

from oslo_config import cfg  # noqa: E402

from heat.common import config as heat_config  # noqa: E402,F401  (registers options)

cfg.CONF([], project="heat", default_config_files=[], default_config_dirs=[])

from heatclient.common import template_utils  # noqa: E402

from heat.common import context as heat_context  # noqa: E402
from heat.common import exception  # noqa: E402
from heat.common import messaging  # noqa: E402
from heat.common import template_format  # noqa: E402
from heat.engine import constraints  # noqa: E402
from heat.engine import environment  # noqa: E402
from heat.engine import resources  # noqa: E402
from heat.engine import stack as heat_stack  # noqa: E402
from heat.engine import template as heat_template  # noqa: E402
from heat.engine.clients import client_plugin  # noqa: E402
from heat.engine.clients import os as os_clients  # noqa: E402
from heat.engine.clients.os import nova  # noqa: E402
from heat.engine.resources import stack_resource  # noqa: E402
from heat.engine.resources.openstack.nova import server  # noqa: E402
from keystoneauth1 import session as keystoneauth_session  # noqa: E402
import requests  # noqa: E402

# ------------------------------------------------------------------------------ stubs
cloud_lookups = collections.Counter()


def _constraint_without_cloud(self, value, context, *args, **kwargs):
    """A constraint that would look the value up in a cloud API: count it, accept it."""
    cloud_lookups[type(self).__name__] += 1
    return True


def _endpoint_exists(self, *args, **kwargs):
    return True


def _extension_exists(self, *args, **kwargs):
    return True


def _server_image_flavor_without_cloud(self, image, flavor):
    """Server's check that the image is active and fits the flavor asks Glance and Nova."""
    cloud_lookups["Server image/flavor fit"] += 1


def _nova_limits_without_cloud(self):
    cloud_lookups["Nova absolute limits"] += 1
    return {"maxServerMeta": 128, "maxPersonality": 5, "maxPersonalitySize": 10240}


def _nova_microversion_without_cloud(self, version):
    cloud_lookups["Nova microversion"] += 1
    return True


def _no_network(*args, **kwargs):
    raise RuntimeError("heat_check: a validation step tried to reach the cloud (%s); "
                       "stub it in heat_check.py" % (args[1:3],))


constraints.BaseCustomConstraint.validate = _constraint_without_cloud
server.Server._validate_image_flavor = _server_image_flavor_without_cloud
nova.NovaClientPlugin.absolute_limits = _nova_limits_without_cloud
nova.NovaClientPlugin.is_version_supported = _nova_microversion_without_cloud
keystoneauth_session.Session.request = _no_network
requests.Session.request = _no_network
client_plugin.ClientPlugin.does_endpoint_exist = _endpoint_exists
os_clients.ExtensionMixin.has_extension = _extension_exists

nested_validated = []


def _validate_nested_stack_strictly(self):
    """StackResource.validate_nested_stack, with the nested stack validated strictly."""
    name = "%s-%s" % (self.stack.name, self.name)
    try:
        nested = self._parse_nested_stack(name, self.child_template(), self.child_params())
        nested.strict_validate = True
        nested.validate()
    except AssertionError:
        raise
    except Exception as ex:
        path = "%s<%s>" % (self.name, self.template_url)
        if os.environ.get("HEAT_CHECK_DEBUG"):
            traceback.print_exc()
        raise exception.StackValidationFailed(error=ex, path=[self.stack.t.RESOURCES, path])
    nested_validated.append(name)


stack_resource.StackResource.validate_nested_stack = _validate_nested_stack_strictly


def _always_validate_nested(self):
    # Heat validates a nested stack from the root only; validate every level here.
    super(stack_resource.StackResource, self).validate()
    self.validate_nested_stack()


stack_resource.StackResource.validate = _always_validate_nested

resources.initialise()
# The in-memory transport Heat's own tests use: a group that has no nested stack yet builds
# an RPC client but asks it nothing.
messaging.setup("fake://", optional=True)


# --------------------------------------------------------------------------- validate
class _UniqueKeyLoader(template_format.yaml_loader):
    """Heat's YAML loader, refusing a key given twice in one mapping (YAML keeps the last)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise ValueError("%s: duplicate key %r" % (key_node.start_mark, key))
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _check_duplicate_keys(paths):
    for path in paths:
        with open(path) as f:
            template_format.yaml.load(f, Loader=_UniqueKeyLoader)


def validate(template_path, env_paths, parameters=None):
    """Build the stack as `openstack stack create -t TEMPLATE -e ENV...` would, validate it."""
    # Client side: the environments' resource_registry and every get_file, read from disk.
    files, _ = template_utils.get_template_contents(template_file=template_path)
    env_files, env = template_utils.process_multiple_environments_and_files(
        env_paths=env_paths, template=None)
    files.update(env_files)
    local = [template_path] + list(env_paths) + [
        u[len("file://"):] for u in files if u.startswith("file://") and u.endswith(".yaml")]
    _check_duplicate_keys(local)
    env.setdefault("parameters", {}).update(parameters or {})

    # Server side: Heat's parser, template, environment, stack.
    with open(template_path) as f:
        template = template_format.parse(f.read())
    ctx = heat_context.RequestContext(
        auth_token="offline", username="validate", user_id="validate",
        project_id="validate", is_admin=False,
        auth_url="http://keystone.invalid/v3", roles=["member"])
    tmpl = heat_template.Template(template, files=files, env=environment.Environment(env))
    stack = heat_stack.Stack(ctx, "innkeep-validate", tmpl, strict_validate=True)
    stack.validate()
    return stack


def describe_failure(ex):
    if os.environ.get("HEAT_CHECK_DEBUG"):
        traceback.print_exc()
    if isinstance(ex, exception.StackValidationFailed):
        return str(ex)
    return "%s: %s" % (type(ex).__name__, ex)


# Each of these, made to a copy of the templates, must make validation fail with the message.
BREAKAGES = [
    ("innkeep.yaml", "      url_path: /readyz", "      url_pth: /readyz",
     "Unknown Property url_pth"),
    ("innkeep.yaml", "      url_path: /readyz", "      url_path: /readyz\n      url_path: /",
     "duplicate key 'url_path'"),
    ("innkeep.yaml", "type: OS::Octavia::LoadBalancer", "type: OS::Octavia::LoadBalancr",
     "OS::Octavia::LoadBalancr) could not be found"),
    ("innkeep.yaml", "      delay: 5", "      delay: soon", "'soon' is not an integer"),
    ("app-node.yaml", "      protocol_port: 8080", "      protocol_port: eighty",
     "'eighty' is not an integer"),
    ("data-node.yaml", "      volume_type: {get_param: volume_type}",
     "      volume_typ: {get_param: volume_type}", "Unknown Property volume_typ"),
    ("app-node.yaml", "get_file: ../../systemd/innkeep.service",
     "get_file: ../../systemd/inkeep.service", "Could not fetch contents"),
]


def self_test(template_path, env_paths, parameters):
    """Break copies of the templates; each must be rejected for the reason expected."""
    heat_dir = os.path.dirname(os.path.abspath(template_path))
    deploy_dir = os.path.dirname(os.path.dirname(heat_dir))
    problems = []
    with tempfile.TemporaryDirectory() as scratch:
        for name, old, new, expected in BREAKAGES:
            copy = os.path.join(scratch, "deploy")
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(os.path.join(deploy_dir, "systemd"), os.path.join(copy, "systemd"))
            shutil.copytree(heat_dir, os.path.join(copy, "openstack", "heat"))
            target = os.path.join(copy, "openstack", "heat", name)
            with open(target) as f:
                text = f.read()
            if old not in text:
                problems.append("%s no longer contains %r: update BREAKAGES" % (name, old))
                continue
            with open(target, "w") as f:
                f.write(text.replace(old, new, 1))
            rel = lambda p: os.path.join(copy, "openstack", "heat", os.path.basename(p))  # noqa: E731
            try:
                validate(rel(template_path), [rel(p) for p in env_paths], parameters)
            except Exception as ex:
                message = describe_failure(ex)
                if expected not in message:
                    problems.append("%s with %r failed, but not with %r: %s"
                                    % (name, new.strip(), expected, message))
                continue
            problems.append("%s with %r passed validation" % (name, new.strip()))
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("template")
    parser.add_argument("environment", nargs="+")
    parser.add_argument("--variant", action="append", default=[], metavar="NAME:KEY=VALUE",
                        help="validate again with a parameter changed (e.g. to turn on a "
                             "condition)")
    parser.add_argument("--self-test", action="store_true",
                        help="also check that broken copies of the templates are rejected")
    args = parser.parse_args()

    runs = [("default", {})]
    for variant in args.variant:
        name, _, assignment = variant.partition(":")
        key, _, value = assignment.partition("=")
        runs.append((name, {key: value}))
    summary = []
    for name, parameters in runs:
        del nested_validated[:]
        cloud_lookups.clear()
        try:
            stack = validate(args.template, args.environment, parameters)
        except Exception as ex:
            print("heat: %s (%s) is invalid: %s"
                  % (args.template, name, describe_failure(ex)), file=sys.stderr)
            return 1
        summary.append("%s: %d resources, %d nested stacks, %d cloud lookups stubbed"
                       % (name, len(stack), len(nested_validated),
                          sum(cloud_lookups.values())))
    if args.self_test:
        problems = self_test(args.template, args.environment, {})
        if problems:
            for problem in problems:
                print("heat self-test: " + problem, file=sys.stderr)
            return 1
        summary.append("%d broken copies rejected" % len(BREAKAGES))
    print("heat valid (%s)" % "; ".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
