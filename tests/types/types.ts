// The types the collection's manifests are checked against (tests/types/check.py, with tsc) and that the lab's
// Kubernetes stand-in validates what it is sent against (JSON Schemas generated from this file by
// ts-json-schema-generator in tests/lab/lab.sh). One exported type per kind, named as the kind.
import type { V1VirtualMachine } from '@kubevirt-ui-ext/kubevirt-api/kubevirt';
import type { IoK8sApiCoreV1Secret } from '@kubevirt-ui-ext/kubevirt-api/kubernetes';
import type { InterfaceType, NodeNetworkConfigurationInterface, NodeNetworkConfigurationInterfaceBondMode,
  V1NodeNetworkConfigurationPolicy, V1NodeNetworkConfigurationPolicySpec } from '@kubevirt-ui-ext/kubevirt-api/nmstate';
import type { V1beta1Hook, V1beta1HookSpec, V1beta1Migration, V1beta1NetworkMap, V1beta1Plan, V1beta1Provider,
  V1beta1StorageMap } from '@kubev2v/types';

// nmstate: the package's interface type is a console's, narrower than nmstate (interface types and bond modes are
// enums where nmstate reads the strings, the type is required where nmstate finds an existing interface by its name
// (an interface set absent), the bond's port list is required, its options are a short list of numbers where nmstate
// takes every kernel bond option, and numbers as strings). It is widened there; the widened parts are checked by
// nmstate's own rules in plugins/module_utils/nmstate/validate.py (the unit tests).
type Interface = Omit<NodeNetworkConfigurationInterface, 'type' | 'state' | 'link-aggregation'> & {
  type?: `${InterfaceType}`;
  state?: NodeNetworkConfigurationInterface['state'];
  'link-aggregation'?: {
    mode: `${NodeNetworkConfigurationInterfaceBondMode}`;
    port: string[];
    options?: { [option: string]: string | number | boolean };
  };
};
// desiredState is `any` in the package (an intersection with `any` checks nothing), so it is replaced.
type Policy = Omit<V1NodeNetworkConfigurationPolicy, 'spec'> & {
  spec: Omit<V1NodeNetworkConfigurationPolicySpec, 'desiredState'> & {
    desiredState: { interfaces: Interface[]; routes?: { config: { destination: string;
      'next-hop-address'?: string; 'next-hop-interface'?: string }[] } };
  };
};
// @kubev2v/types 0.0.24 (the newest) predates Forklift's AAP hooks: HookSpec.aap, and image optional, as Forklift's
// pkg/apis/forklift/v1beta1/hook.go has them now.
export type Hook = Omit<V1beta1Hook, 'spec'> & {
  spec?: Omit<V1beta1HookSpec, 'image'> & {
    image?: string;
    aap?: { jobTemplateId: number; url?: string; tokenSecret?: { name?: string; namespace?: string }; timeout?: number };
  };
};

export type VirtualMachine = V1VirtualMachine;
export type Secret = IoK8sApiCoreV1Secret;
export type NodeNetworkConfigurationPolicy = Policy;
export type Provider = V1beta1Provider;
export type NetworkMap = V1beta1NetworkMap;
export type StorageMap = V1beta1StorageMap;
export type Plan = V1beta1Plan;
export type Migration = V1beta1Migration;
