/**
 * Our own compact schema table of the built-in types the embedded API server serves.
 * Field types are written in a tiny notation (see FieldType below) and expanded into
 * OpenAPI v2/v3 and into FieldSchema. Names and nesting follow k8s.io/api so that kubectl
 * (explain, client-side apply patch metadata, validation) finds what it expects; the
 * descriptions are our own, kept short.
 *
 * Notation of a field: `[!]TYPE[ // description]`, `!` = required, TYPE one of
 *   s i32 i64 f b byte       string, int32, int64, double, boolean, base64 string
 *   t mt q ios raw json      Time, MicroTime, Quantity, IntOrString, RawExtension, any JSON
 *   prefix.Name              a reference (meta. core. apps. coord. events. apiext. autoscaling. policy.)
 *   [T]                      a list, optionally `[T]@merge:key`, `[T]@merge,retainKeys:key`, `[T]@merge`,
 *                            `[T]@map:key`, `[T]@set`, `[T]@atomic`
 *   {T}                      a map from string to T
 */

export interface TypeDef {
  readonly d: string;
  /** group, version, kind for top-level kinds */
  readonly gvk?: readonly [string, string, string];
  readonly p: Readonly<Record<string, string>>;
}

const TYPE_META = {
  apiVersion: 's // APIVersion defines the versioned schema of this representation of an object.',
  kind: 's // Kind is a string value representing the REST resource this object represents.',
};
const OBJ = (spec?: string, status?: string): Record<string, string> => ({
  ...TYPE_META,
  metadata: "meta.ObjectMeta // Standard object's metadata.",
  ...(spec === undefined ? {} : { spec }),
  ...(status === undefined ? {} : { status }),
});
const LIST = (item: string, what: string): TypeDef => ({
  d: `${what} is a list of ${item.split('.')[1] ?? item}.`,
  p: {
    ...TYPE_META,
    metadata: 'meta.ListMeta // Standard list metadata.',
    items: `![${item}] // List of ${item.split('.')[1] ?? item} objects.`,
  },
});

export const TYPES: Readonly<Record<string, TypeDef>> = {
  // ------------------------------------------------------------------ meta/v1
  'meta.ObjectMeta': {
    d: 'ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.',
    p: {
      name: 's // Name must be unique within a namespace.',
      generateName: 's // Optional prefix used by the server to generate a unique name.',
      namespace: 's // Namespace defines the space within which each name must be unique.',
      selfLink: 's // Deprecated: selfLink is a legacy read-only field.',
      uid: 's // UID is the unique in time and space value for this object.',
      resourceVersion: 's // An opaque value that represents the internal version of this object.',
      generation: 'i64 // A sequence number representing a specific generation of the desired state.',
      creationTimestamp: 't // The server time when this object was created.',
      deletionTimestamp: 't // RFC 3339 date and time at which this resource will be deleted.',
      deletionGracePeriodSeconds: 'i64 // Seconds allowed for graceful termination before removal.',
      labels: '{s} // Map of string keys and values used to organize and categorize objects.',
      annotations: '{s} // Unstructured key value map stored with a resource.',
      ownerReferences: '[meta.OwnerReference]@merge:uid // Objects depended on by this object.',
      finalizers: '[s]@merge // Must be empty before the object is deleted from the registry.',
      managedFields: '[meta.ManagedFieldsEntry] // Field management records.',
    },
  },
  'meta.OwnerReference': {
    d: 'OwnerReference contains enough information to let you identify an owning object.',
    p: {
      apiVersion: '!s // API version of the referent.',
      kind: '!s // Kind of the referent.',
      name: '!s // Name of the referent.',
      uid: '!s // UID of the referent.',
      controller: 'b // If true, this reference points to the managing controller.',
      blockOwnerDeletion: 'b // If true, the owner cannot be deleted before this object is removed.',
    },
  },
  'meta.ManagedFieldsEntry': {
    d: 'ManagedFieldsEntry is a workflow-id, a FieldSet and the group version of the resource that the fieldset applies to.',
    p: {
      manager: 's // An identifier of the workflow managing these fields.',
      operation: 's // The type of operation which lead to this entry: Apply or Update.',
      apiVersion: 's // The version of the resource this field set applies to.',
      time: 't // Timestamp of when the entry was last changed.',
      fieldsType: 's // The discriminator for the different fields format.',
      fieldsV1: 'meta.FieldsV1 // The field set in FieldsV1 format.',
      subresource: 's // The subresource used to update the object.',
    },
  },
  'meta.ListMeta': {
    d: 'ListMeta describes metadata that synthetic resources must have.',
    p: {
      selfLink: 's // Deprecated.',
      resourceVersion: 's // The version of the list.',
      continue: 's // Set if the user set a limit and more results exist.',
      remainingItemCount: 'i64 // Number of subsequent items in the list.',
    },
  },
  'meta.LabelSelector': {
    d: 'A label selector is a label query over a set of resources.',
    p: {
      matchLabels: '{s} // Map of {key,value} pairs (ANDed).',
      matchExpressions: '[meta.LabelSelectorRequirement] // List of label selector requirements (ANDed).',
    },
  },
  'meta.LabelSelectorRequirement': {
    d: 'A selector that contains values, a key, and an operator.',
    p: {
      key: '!s // The label key that the selector applies to.',
      operator: '!s // In, NotIn, Exists or DoesNotExist.',
      values: '[s] // Values for In and NotIn.',
    },
  },
  'meta.Condition': {
    d: 'Condition contains details for one aspect of the current state of this API Resource.',
    p: {
      type: '!s // Type of condition in CamelCase.',
      status: '!s // True, False or Unknown.',
      observedGeneration: 'i64 // The generation the condition was set based upon.',
      lastTransitionTime: '!t // The last time the condition transitioned.',
      reason: '!s // Programmatic identifier of the reason.',
      message: '!s // Human readable message.',
    },
  },
  'meta.DeleteOptions': {
    d: 'DeleteOptions may be provided when deleting an API object.',
    p: {
      ...TYPE_META,
      gracePeriodSeconds: 'i64 // Duration in seconds before the object should be deleted.',
      preconditions: 'meta.Preconditions // Must be fulfilled before a deletion is carried out.',
      orphanDependents: 'b // Deprecated: use propagationPolicy.',
      propagationPolicy: 's // Orphan, Background or Foreground.',
      dryRun: '[s] // When present, modifications are not persisted.',
      ignoreStoreReadErrorWithClusterBreakingPotential:
        'b // Delete a corrupt object without reading it (dangerous).',
    },
  },
  'meta.Preconditions': {
    d: 'Preconditions must be fulfilled before an operation is carried out.',
    p: { uid: 's // Target UID.', resourceVersion: 's // Target ResourceVersion.' },
  },
  'meta.Status': {
    d: 'Status is a return value for calls that do not return other objects.',
    p: {
      ...TYPE_META,
      metadata: 'meta.ListMeta // Standard list metadata.',
      status: 's // Success or Failure.',
      message: 's // A human-readable description of the status of this operation.',
      reason: 's // A machine-readable description of why this operation is in the Failure status.',
      details: 'meta.StatusDetails // Extended data associated with the reason.',
      code: 'i32 // Suggested HTTP return code for this status.',
    },
  },
  'meta.StatusDetails': {
    d: 'StatusDetails is a set of additional properties that MAY be set by the server.',
    p: {
      name: 's // The name attribute of the resource.',
      group: 's // The group attribute of the resource.',
      kind: 's // The kind attribute of the resource.',
      uid: 's // UID of the resource.',
      causes: '[meta.StatusCause] // More detail about the failure.',
      retryAfterSeconds: 'i32 // Seconds the client should wait before retrying.',
    },
  },
  'meta.StatusCause': {
    d: 'StatusCause provides more information about an api.Status failure.',
    p: {
      reason: 's // Machine-readable cause.',
      message: 's // Human-readable cause.',
      field: 's // The field that caused the error.',
    },
  },
  'meta.WatchEvent': {
    d: 'Event represents a single event to a watched resource.',
    p: { type: '!s // ADDED, MODIFIED, DELETED, BOOKMARK or ERROR.', object: '!raw // The object.' },
  },

  // ------------------------------------------------------------------ core/v1
  'core.Pod': {
    d: 'Pod is a collection of containers that can run on a host.',
    gvk: ['', 'v1', 'Pod'],
    p: OBJ(
      'core.PodSpec // Specification of the desired behavior of the pod.',
      'core.PodStatus // Most recently observed status of the pod.',
    ),
  },
  'core.PodList': LIST('core.Pod', 'PodList'),
  'core.PodSpec': {
    d: 'PodSpec is a description of a pod.',
    p: {
      volumes:
        '[core.Volume]@merge,retainKeys:name // Volumes that can be mounted by containers of this pod.',
      initContainers:
        '[core.Container]@merge:name // Containers run in order before the app containers start.',
      containers: '![core.Container]@merge:name // Containers belonging to the pod.',
      ephemeralContainers: '[core.EphemeralContainer]@merge:name // Ephemeral containers run in this pod.',
      restartPolicy: 's // Always, OnFailure or Never.',
      terminationGracePeriodSeconds: 'i64 // Seconds the pod needs to terminate gracefully.',
      activeDeadlineSeconds: 'i64 // Seconds the pod may be active before the system fails it.',
      dnsPolicy: 's // ClusterFirstWithHostNet, ClusterFirst, Default or None.',
      nodeSelector: '{s} // Labels a node must have for the pod to fit on it.',
      serviceAccountName: 's // Name of the ServiceAccount to run this pod as.',
      serviceAccount: 's // Deprecated alias for serviceAccountName.',
      automountServiceAccountToken: 'b // Whether a service account token should be mounted.',
      nodeName: 's // The node the pod is bound to.',
      hostNetwork: "b // Use the host's network namespace.",
      hostPID: "b // Use the host's pid namespace.",
      hostIPC: "b // Use the host's ipc namespace.",
      shareProcessNamespace: 'b // Share a single process namespace between all containers.',
      securityContext: 'core.PodSecurityContext // Pod-level security attributes.',
      imagePullSecrets: '[core.LocalObjectReference]@merge:name // Secrets used to pull images.',
      hostname: "s // The pod's hostname.",
      subdomain: "s // The pod's subdomain.",
      affinity: "core.Affinity // The pod's scheduling constraints.",
      schedulerName: 's // The scheduler that dispatches this pod.',
      tolerations: "[core.Toleration] // The pod's tolerations.",
      hostAliases: '[core.HostAlias]@merge:ip // Entries for the pod hosts file.',
      priorityClassName: "s // The pod's priority class.",
      priority: 'i32 // The priority value.',
      dnsConfig: 'core.PodDNSConfig // DNS parameters of the pod.',
      readinessGates: '[core.PodReadinessGate] // Conditions evaluated for pod readiness.',
      runtimeClassName: 's // RuntimeClass used to run this pod.',
      enableServiceLinks: 'b // Inject service information into environment variables.',
      preemptionPolicy: 's // Never or PreemptLowerPriority.',
      overhead: '{q} // Resource overhead of running the pod sandbox.',
      topologySpreadConstraints:
        '[core.TopologySpreadConstraint]@merge:topologyKey // How pods spread across topology domains.',
      setHostnameAsFQDN: "b // Use the pod's FQDN as hostname.",
      os: 'core.PodOS // The OS of the containers in the pod.',
      hostUsers: 'b // Use the host user namespace.',
      schedulingGates: '[core.PodSchedulingGate]@merge:name // Gates that block scheduling.',
      resourceClaims:
        '[core.PodResourceClaim]@merge,retainKeys:name // ResourceClaims that must be allocated before the pod starts.',
      hostnameOverride: "s // Overrides the pod's hostname.",
      resources: 'core.ResourceRequirements // Total resources of all containers of the pod.',
    },
  },
  'core.Container': {
    d: 'A single application container that you want to run within a pod.',
    p: {
      name: '!s // Name of the container (DNS_LABEL).',
      image: 's // Container image name.',
      command: '[s] // Entrypoint array.',
      args: '[s] // Arguments to the entrypoint.',
      workingDir: "s // Container's working directory.",
      ports: '[core.ContainerPort]@merge:containerPort // Ports to expose from the container.',
      envFrom: '[core.EnvFromSource] // Sources to populate environment variables.',
      env: '[core.EnvVar]@merge:name // Environment variables to set.',
      resources: 'core.ResourceRequirements // Compute resources required.',
      restartPolicy: 's // Restart behavior of an init container (Always = sidecar).',
      volumeMounts: '[core.VolumeMount]@merge:mountPath // Volumes to mount.',
      volumeDevices: '[core.VolumeDevice]@merge:devicePath // Block devices to be used by the container.',
      livenessProbe: 'core.Probe // Periodic probe of container liveness.',
      readinessProbe: 'core.Probe // Periodic probe of container service readiness.',
      startupProbe: 'core.Probe // Probe that the pod has successfully initialized.',
      lifecycle: 'core.Lifecycle // Actions on container lifecycle events.',
      terminationMessagePath: "s // Path of the container's termination message file.",
      terminationMessagePolicy: 's // File or FallbackToLogsOnError.',
      imagePullPolicy: 's // Always, Never or IfNotPresent.',
      securityContext: 'core.SecurityContext // Container security options.',
      stdin: 'b // Allocate a buffer for stdin.',
      stdinOnce: 'b // Close stdin after the first attach.',
      tty: 'b // Allocate a TTY.',
      resizePolicy: '[core.ContainerResizePolicy]@atomic // Resize policy for the container.',
      restartPolicyRules:
        '[core.ContainerRestartRule]@atomic // Rules deciding whether to restart an exited container.',
    },
  },
  'core.EphemeralContainer': {
    d: 'A temporary container added to an existing pod for user-initiated activities such as debugging.',
    p: {
      name: '!s // Name of the ephemeral container.',
      image: 's // Container image name.',
      command: '[s] // Entrypoint array.',
      args: '[s] // Arguments to the entrypoint.',
      workingDir: "s // Container's working directory.",
      env: '[core.EnvVar]@merge:name // Environment variables to set.',
      envFrom: '[core.EnvFromSource] // Sources to populate environment variables.',
      volumeMounts: '[core.VolumeMount]@merge:mountPath // Volumes to mount.',
      volumeDevices: '[core.VolumeDevice]@merge:devicePath // Block devices to be used by the container.',
      ports: '[core.ContainerPort]@merge:containerPort // Not allowed for ephemeral containers.',
      resources: 'core.ResourceRequirements // Not allowed for ephemeral containers.',
      imagePullPolicy: 's // Always, Never or IfNotPresent.',
      securityContext: 'core.SecurityContext // Container security options.',
      stdin: 'b // Allocate a buffer for stdin.',
      stdinOnce: 'b // Close stdin after the first attach.',
      tty: 'b // Allocate a TTY.',
      targetContainerName: 's // The container whose namespaces to target.',
      terminationMessagePath: "s // Path of the container's termination message file.",
      terminationMessagePolicy: 's // File or FallbackToLogsOnError.',
      lifecycle: 'core.Lifecycle // Not allowed for ephemeral containers.',
      livenessProbe: 'core.Probe // Not allowed for ephemeral containers.',
      readinessProbe: 'core.Probe // Not allowed for ephemeral containers.',
      startupProbe: 'core.Probe // Not allowed for ephemeral containers.',
      resizePolicy: '[core.ContainerResizePolicy]@atomic // Not allowed for ephemeral containers.',
      restartPolicy: 's // Not allowed for ephemeral containers.',
      restartPolicyRules: '[core.ContainerRestartRule]@atomic // Not allowed for ephemeral containers.',
    },
  },
  'core.ContainerPort': {
    d: 'ContainerPort represents a network port in a single container.',
    p: {
      name: 's // IANA_SVC_NAME of the port.',
      hostPort: 'i32 // Port number to expose on the host.',
      containerPort: "!i32 // Port number to expose on the pod's IP address.",
      protocol: 's // UDP, TCP or SCTP.',
      hostIP: 's // Host IP to bind the external port to.',
    },
  },
  'core.EnvVar': {
    d: 'EnvVar represents an environment variable present in a Container.',
    p: {
      name: '!s // Name of the environment variable.',
      value: 's // Value, with $(VAR_NAME) references expanded.',
      valueFrom: "core.EnvVarSource // Source for the variable's value.",
    },
  },
  'core.EnvVarSource': {
    d: 'EnvVarSource represents a source for the value of an EnvVar.',
    p: {
      fieldRef: 'core.ObjectFieldSelector // Selects a field of the pod.',
      resourceFieldRef: 'core.ResourceFieldSelector // Selects a resource of the container.',
      configMapKeyRef: 'core.ConfigMapKeySelector // Selects a key of a ConfigMap.',
      secretKeyRef: 'core.SecretKeySelector // Selects a key of a secret.',
      fileKeyRef: 'core.FileKeySelector // Selects a key of an env file.',
    },
  },
  'core.ObjectFieldSelector': {
    d: 'ObjectFieldSelector selects an APIVersioned field of an object.',
    p: {
      apiVersion: 's // Version of the schema the FieldPath is written in.',
      fieldPath: '!s // Path of the field to select.',
    },
  },
  'core.ResourceFieldSelector': {
    d: 'ResourceFieldSelector represents container resources (cpu, memory) and their output format.',
    p: {
      containerName: 's // Container name.',
      resource: '!s // Resource to select.',
      divisor: 'q // Output format of the exposed resources.',
    },
  },
  'core.ConfigMapKeySelector': {
    d: 'Selects a key from a ConfigMap.',
    p: {
      name: 's // Name of the referent.',
      key: '!s // The key to select.',
      optional: 'b // Whether the ConfigMap or its key must be defined.',
    },
  },
  'core.SecretKeySelector': {
    d: 'SecretKeySelector selects a key of a Secret.',
    p: {
      name: 's // Name of the referent.',
      key: '!s // The key of the secret to select from.',
      optional: 'b // Whether the Secret or its key must be defined.',
    },
  },
  'core.EnvFromSource': {
    d: 'EnvFromSource represents the source of a set of ConfigMaps or Secrets.',
    p: {
      prefix: 's // Identifier to prepend to each key.',
      configMapRef: 'core.ConfigMapEnvSource // The ConfigMap to select from.',
      secretRef: 'core.SecretEnvSource // The Secret to select from.',
    },
  },
  'core.ConfigMapEnvSource': {
    d: 'ConfigMapEnvSource selects a ConfigMap to populate the environment variables with.',
    p: { name: 's // Name of the referent.', optional: 'b // Whether the ConfigMap must be defined.' },
  },
  'core.SecretEnvSource': {
    d: 'SecretEnvSource selects a Secret to populate the environment variables with.',
    p: { name: 's // Name of the referent.', optional: 'b // Whether the Secret must be defined.' },
  },
  'core.ResourceRequirements': {
    d: 'ResourceRequirements describes the compute resource requirements.',
    p: {
      limits: '{q} // Maximum amount of compute resources allowed.',
      requests: '{q} // Minimum amount of compute resources required.',
      claims: '[core.ResourceClaim]@map:name // Dynamically allocated resources used by this container.',
    },
  },
  'core.ResourceClaim': {
    d: 'ResourceClaim references one entry in PodSpec.ResourceClaims.',
    p: { name: '!s // Name of the PodSpec.ResourceClaims entry.', request: 's // Request within the claim.' },
  },
  'core.VolumeMount': {
    d: 'VolumeMount describes a mounting of a Volume within a container.',
    p: {
      name: '!s // Must match the Name of a Volume.',
      readOnly: 'b // Mounted read-only if true.',
      mountPath: '!s // Path within the container at which the volume should be mounted.',
      subPath: "s // Path within the volume from which the container's volume should be mounted.",
      mountPropagation: 's // How mounts are propagated.',
      subPathExpr: 's // Expanded path within the volume.',
      recursiveReadOnly: 's // Whether read-only mounts are recursively read-only.',
    },
  },
  'core.VolumeDevice': {
    d: 'volumeDevice describes a mapping of a raw block device within a container.',
    p: {
      name: '!s // Must match the name of a persistentVolumeClaim in the pod.',
      devicePath: '!s // Path inside of the container that the device will be mapped to.',
    },
  },
  'core.ContainerResizePolicy': {
    d: 'ContainerResizePolicy represents resource resize policy for the container.',
    p: {
      resourceName: '!s // Name of the resource (cpu, memory).',
      restartPolicy: '!s // NotRequired or RestartContainer.',
    },
  },
  'core.ContainerRestartRule': {
    d: 'ContainerRestartRule describes how a container exit is handled.',
    p: {
      action: '!s // Restart.',
      exitCodes: 'core.ContainerRestartRuleOnExitCodes // Exit codes to match.',
    },
  },
  'core.ContainerRestartRuleOnExitCodes': {
    d: 'ContainerRestartRuleOnExitCodes describes the condition for handling an exited container based on its exit codes.',
    p: { operator: '!s // In or NotIn.', values: '[i32]@set // The exit codes to check.' },
  },
  'core.FileKeySelector': {
    d: 'FileKeySelector selects a key of the env file.',
    p: {
      volumeName: '!s // The name of the volume mount containing the env file.',
      path: '!s // The path within the volume from which to select the file.',
      key: '!s // The key within the env file.',
      optional: 'b // Whether the file or its key must be defined.',
    },
  },
  'core.AppArmorProfile': {
    d: "AppArmorProfile defines a pod or container's AppArmor settings.",
    p: {
      type: '!s // Localhost, RuntimeDefault or Unconfined.',
      localhostProfile: 's // A profile loaded on the node.',
    },
  },
  'core.SELinuxOptions': {
    d: 'SELinuxOptions are the labels to be applied to the container.',
    p: {
      user: 's // SELinux user label.',
      role: 's // SELinux role label.',
      type: 's // SELinux type label.',
      level: 's // SELinux level label.',
    },
  },
  'core.WindowsSecurityContextOptions': {
    d: 'WindowsSecurityContextOptions contain Windows-specific options and credentials.',
    p: {
      gmsaCredentialSpecName: 's // Name of the GMSA credential spec to use.',
      gmsaCredentialSpec: 's // GMSA credential spec contents.',
      runAsUserName: 's // The UserName in Windows to run the entrypoint of the container process.',
      hostProcess: 'b // Run the container as a Windows HostProcess container.',
    },
  },
  'core.Probe': {
    d: 'Probe describes a health check to be performed against a container.',
    p: {
      exec: 'core.ExecAction // Exec specifies a command to execute in the container.',
      httpGet: 'core.HTTPGetAction // HTTPGet specifies an HTTP GET request to perform.',
      tcpSocket: 'core.TCPSocketAction // TCPSocket specifies a connection to a TCP port.',
      grpc: 'core.GRPCAction // GRPC specifies a GRPC HealthCheckRequest.',
      initialDelaySeconds: 'i32 // Seconds after the container has started before probes are initiated.',
      timeoutSeconds: 'i32 // Seconds after which the probe times out.',
      periodSeconds: 'i32 // How often (in seconds) to perform the probe.',
      successThreshold: 'i32 // Minimum consecutive successes after having failed.',
      failureThreshold: 'i32 // Minimum consecutive failures after having succeeded.',
      terminationGracePeriodSeconds: 'i64 // Grace period when the probe fails.',
    },
  },
  'core.ExecAction': {
    d: 'ExecAction describes a "run in container" action.',
    p: { command: '[s] // Command line to execute inside the container.' },
  },
  'core.HTTPGetAction': {
    d: 'HTTPGetAction describes an action based on HTTP Get requests.',
    p: {
      path: 's // Path to access on the HTTP server.',
      port: '!ios // Name or number of the port to access.',
      host: 's // Host name to connect to.',
      scheme: 's // HTTP or HTTPS.',
      httpHeaders: '[core.HTTPHeader] // Custom headers to set in the request.',
    },
  },
  'core.HTTPHeader': {
    d: 'HTTPHeader describes a custom header to be used in HTTP probes.',
    p: { name: '!s // The header field name.', value: '!s // The header field value.' },
  },
  'core.TCPSocketAction': {
    d: 'TCPSocketAction describes an action based on opening a socket.',
    p: { port: '!ios // Number or name of the port to access.', host: 's // Host name to connect to.' },
  },
  'core.GRPCAction': {
    d: 'GRPCAction specifies an action involving a GRPC service.',
    p: {
      port: '!i32 // Port number of the gRPC service.',
      service: 's // Name of the service to place in the gRPC HealthCheckRequest.',
    },
  },
  'core.Lifecycle': {
    d: 'Lifecycle describes actions that the management system should take in response to container lifecycle events.',
    p: {
      postStart: 'core.LifecycleHandler // Called immediately after a container is created.',
      preStop: 'core.LifecycleHandler // Called immediately before a container is terminated.',
      stopSignal: 's // The signal used to stop the container.',
    },
  },
  'core.LifecycleHandler': {
    d: 'LifecycleHandler defines a specific action that should be taken in a lifecycle hook.',
    p: {
      exec: 'core.ExecAction // Exec specifies a command to execute in the container.',
      httpGet: 'core.HTTPGetAction // HTTPGet specifies an HTTP GET request to perform.',
      tcpSocket: 'core.TCPSocketAction // Deprecated.',
      sleep: 'core.SleepAction // Sleep represents a duration that the container should sleep.',
    },
  },
  'core.SleepAction': {
    d: 'SleepAction describes a "sleep" action.',
    p: { seconds: '!i64 // Seconds to sleep.' },
  },
  'core.SecurityContext': {
    d: 'SecurityContext holds security configuration that will be applied to a container.',
    p: {
      capabilities: 'core.Capabilities // Capabilities to add/drop.',
      privileged: 'b // Run container in privileged mode.',
      runAsUser: 'i64 // UID to run the entrypoint of the container process.',
      runAsGroup: 'i64 // GID to run the entrypoint of the container process.',
      runAsNonRoot: 'b // The container must run as a non-root user.',
      readOnlyRootFilesystem: 'b // Whether this container has a read-only root filesystem.',
      allowPrivilegeEscalation: 'b // Whether a process can gain more privileges than its parent.',
      procMount: 's // Type of proc mount to use.',
      seccompProfile: 'core.SeccompProfile // The seccomp options.',
      appArmorProfile: 'core.AppArmorProfile // AppArmor options.',
      seLinuxOptions: 'core.SELinuxOptions // SELinux context.',
      windowsOptions: 'core.WindowsSecurityContextOptions // Windows-specific settings.',
    },
  },
  'core.Capabilities': {
    d: 'Adds and removes POSIX capabilities from running containers.',
    p: { add: '[s] // Added capabilities.', drop: '[s] // Removed capabilities.' },
  },
  'core.SeccompProfile': {
    d: "SeccompProfile defines a pod/container's seccomp profile settings.",
    p: {
      type: '!s // Localhost, RuntimeDefault or Unconfined.',
      localhostProfile: 's // A profile defined in a file on the node.',
    },
  },
  'core.PodSecurityContext': {
    d: 'PodSecurityContext holds pod-level security attributes and common container settings.',
    p: {
      runAsUser: 'i64 // UID to run the entrypoint of the container process.',
      runAsGroup: 'i64 // GID to run the entrypoint of the container process.',
      runAsNonRoot: 'b // The container must run as a non-root user.',
      supplementalGroups: '[i64] // Groups applied to the first process in each container.',
      fsGroup: 'i64 // A special supplemental group that applies to all containers.',
      fsGroupChangePolicy: 's // OnRootMismatch or Always.',
      sysctls: '[core.Sysctl] // Namespaced sysctls used for the pod.',
      seccompProfile: 'core.SeccompProfile // The seccomp options.',
      appArmorProfile: 'core.AppArmorProfile // AppArmor options.',
      seLinuxOptions: 'core.SELinuxOptions // SELinux context.',
      windowsOptions: 'core.WindowsSecurityContextOptions // Windows-specific settings.',
      seLinuxChangePolicy: 's // How the SELinux label is applied to volumes.',
      supplementalGroupsPolicy:
        's // How supplemental groups of the first container processes are calculated.',
    },
  },
  'core.Sysctl': {
    d: 'Sysctl defines a kernel parameter to be set.',
    p: { name: '!s // Name of a property to set.', value: '!s // Value of a property to set.' },
  },
  'core.Volume': {
    d: 'Volume represents a named volume in a pod that may be accessed by any container in the pod.',
    p: {
      name: '!s // Name of the volume (DNS_LABEL).',
      hostPath: 'core.HostPathVolumeSource // A pre-existing file or directory on the host.',
      emptyDir: "core.EmptyDirVolumeSource // A temporary directory that shares a pod's lifetime.",
      secret: 'core.SecretVolumeSource // A secret that should populate this volume.',
      configMap: 'core.ConfigMapVolumeSource // A configMap that should populate this volume.',
      persistentVolumeClaim:
        'core.PersistentVolumeClaimVolumeSource // A reference to a PersistentVolumeClaim.',
      downwardAPI: 'core.DownwardAPIVolumeSource // Downward API about the pod.',
      projected:
        'core.ProjectedVolumeSource // Items for all in one resources secrets, configmaps, and downward API.',
      awsElasticBlockStore: 'json // awsElasticBlockStore volume source (not served by the edge runtime).',
      azureDisk: 'json // azureDisk volume source (not served by the edge runtime).',
      azureFile: 'json // azureFile volume source (not served by the edge runtime).',
      cephfs: 'json // cephfs volume source (not served by the edge runtime).',
      cinder: 'json // cinder volume source (not served by the edge runtime).',
      csi: 'json // csi volume source (not served by the edge runtime).',
      ephemeral: 'json // ephemeral volume source (not served by the edge runtime).',
      fc: 'json // fc volume source (not served by the edge runtime).',
      flexVolume: 'json // flexVolume volume source (not served by the edge runtime).',
      flocker: 'json // flocker volume source (not served by the edge runtime).',
      gcePersistentDisk: 'json // gcePersistentDisk volume source (not served by the edge runtime).',
      gitRepo: 'json // gitRepo volume source (not served by the edge runtime).',
      glusterfs: 'json // glusterfs volume source (not served by the edge runtime).',
      image: 'json // image volume source (not served by the edge runtime).',
      iscsi: 'json // iscsi volume source (not served by the edge runtime).',
      nfs: 'json // nfs volume source (not served by the edge runtime).',
      photonPersistentDisk: 'json // photonPersistentDisk volume source (not served by the edge runtime).',
      portworxVolume: 'json // portworxVolume volume source (not served by the edge runtime).',
      quobyte: 'json // quobyte volume source (not served by the edge runtime).',
      rbd: 'json // rbd volume source (not served by the edge runtime).',
      scaleIO: 'json // scaleIO volume source (not served by the edge runtime).',
      storageos: 'json // storageos volume source (not served by the edge runtime).',
      vsphereVolume: 'json // vsphereVolume volume source (not served by the edge runtime).',
    },
  },
  'core.HostPathVolumeSource': {
    d: 'Represents a host path mapped into a pod.',
    p: { path: '!s // Path of the directory on the host.', type: 's // Type for HostPath Volume.' },
  },
  'core.EmptyDirVolumeSource': {
    d: 'Represents an empty directory for a pod.',
    p: {
      medium: 's // What type of storage medium should back this directory.',
      sizeLimit: 'q // Total amount of local storage required.',
    },
  },
  'core.KeyToPath': {
    d: 'Maps a string key to a path within a volume.',
    p: {
      key: '!s // The key to project.',
      path: '!s // The relative path of the file to map the key to.',
      mode: 'i32 // Mode bits used to set permissions on this file.',
    },
  },
  'core.SecretVolumeSource': {
    d: 'Adapts a Secret into a volume.',
    p: {
      secretName: "s // Name of the secret in the pod's namespace to use.",
      items: '[core.KeyToPath] // Keys to project.',
      defaultMode: 'i32 // Mode bits used to set permissions on created files by default.',
      optional: 'b // Whether the Secret or its keys must be defined.',
    },
  },
  'core.ConfigMapVolumeSource': {
    d: 'Adapts a ConfigMap into a volume.',
    p: {
      name: 's // Name of the referent.',
      items: '[core.KeyToPath] // Keys to project.',
      defaultMode: 'i32 // Mode bits used to set permissions on created files by default.',
      optional: 'b // Whether the ConfigMap or its keys must be defined.',
    },
  },
  'core.PersistentVolumeClaimVolumeSource': {
    d: "References the user's PVC in the same namespace.",
    p: {
      claimName: '!s // Name of a PersistentVolumeClaim in the same namespace.',
      readOnly: 'b // Force the ReadOnly setting in VolumeMounts.',
    },
  },
  'core.DownwardAPIVolumeSource': {
    d: 'DownwardAPIVolumeSource represents a volume containing downward API info.',
    p: {
      items: '[core.DownwardAPIVolumeFile] // Downward API volume files.',
      defaultMode: 'i32 // Mode bits used by default.',
    },
  },
  'core.DownwardAPIVolumeFile': {
    d: 'DownwardAPIVolumeFile represents information to create the file containing the pod field.',
    p: {
      path: '!s // Relative path name of the file to be created.',
      fieldRef: 'core.ObjectFieldSelector // A field of the pod.',
      resourceFieldRef: 'core.ResourceFieldSelector // A resource of the container.',
      mode: 'i32 // Mode bits used to set permissions on this file.',
    },
  },
  'core.ProjectedVolumeSource': {
    d: 'Represents a projected volume source.',
    p: {
      sources: '[core.VolumeProjection] // Volume projections.',
      defaultMode: 'i32 // Mode bits used by default.',
    },
  },
  'core.VolumeProjection': {
    d: 'Projection that may be projected along with other supported volume types.',
    p: {
      secret: 'core.SecretProjection // Secret data to project.',
      configMap: 'core.ConfigMapProjection // ConfigMap data to project.',
      downwardAPI: 'core.DownwardAPIProjection // Downward API data to project.',
      serviceAccountToken: 'core.ServiceAccountTokenProjection // A service account token to project.',
      clusterTrustBundle: 'json // ClusterTrustBundle objects to project.',
      podCertificate: 'json // A pod certificate to project.',
    },
  },
  'core.SecretProjection': {
    d: 'Adapts a secret into a projected volume.',
    p: {
      name: 's // Name of the referent.',
      items: '[core.KeyToPath] // Keys to project.',
      optional: 'b // Whether the Secret must be defined.',
    },
  },
  'core.ConfigMapProjection': {
    d: 'Adapts a ConfigMap into a projected volume.',
    p: {
      name: 's // Name of the referent.',
      items: '[core.KeyToPath] // Keys to project.',
      optional: 'b // Whether the ConfigMap must be defined.',
    },
  },
  'core.DownwardAPIProjection': {
    d: 'Represents downward API info for projecting into a projected volume.',
    p: { items: '[core.DownwardAPIVolumeFile] // DownwardAPIVolume file list.' },
  },
  'core.ServiceAccountTokenProjection': {
    d: 'Represents a projected service account token volume.',
    p: {
      audience: 's // Intended audience of the token.',
      expirationSeconds: 'i64 // Requested duration of validity.',
      path: '!s // Path relative to the mount point.',
    },
  },
  'core.LocalObjectReference': {
    d: 'LocalObjectReference contains enough information to locate the referenced object inside the same namespace.',
    p: { name: 's // Name of the referent.' },
  },
  'core.ObjectReference': {
    d: 'ObjectReference contains enough information to let you inspect or modify the referred object.',
    p: {
      kind: 's // Kind of the referent.',
      namespace: 's // Namespace of the referent.',
      name: 's // Name of the referent.',
      uid: 's // UID of the referent.',
      apiVersion: 's // API version of the referent.',
      resourceVersion: 's // Specific resourceVersion to which this reference is made.',
      fieldPath: 's // A piece of an object instead of an entire object.',
    },
  },
  'core.Affinity': {
    d: 'Affinity is a group of affinity scheduling rules.',
    p: {
      nodeAffinity: 'core.NodeAffinity // Node affinity scheduling rules for the pod.',
      podAffinity: 'json // Inter-pod affinity scheduling rules.',
      podAntiAffinity: 'json // Inter-pod anti-affinity scheduling rules.',
    },
  },
  'core.NodeAffinity': {
    d: 'Node affinity is a group of node affinity scheduling rules.',
    p: {
      requiredDuringSchedulingIgnoredDuringExecution:
        'core.NodeSelector // Requirements that must be met at scheduling time.',
      preferredDuringSchedulingIgnoredDuringExecution: '[core.PreferredSchedulingTerm] // Preferred nodes.',
    },
  },
  'core.NodeSelector': {
    d: 'A node selector represents the union of the results of one or more label queries over a set of nodes.',
    p: { nodeSelectorTerms: '![core.NodeSelectorTerm] // A list of node selector terms (ORed).' },
  },
  'core.NodeSelectorTerm': {
    d: 'A null or empty node selector term matches no objects.',
    p: {
      matchExpressions: "[core.NodeSelectorRequirement] // Requirements by node's labels.",
      matchFields: "[core.NodeSelectorRequirement] // Requirements by node's fields.",
    },
  },
  'core.NodeSelectorRequirement': {
    d: 'A node selector requirement is a selector that contains values, a key, and an operator.',
    p: {
      key: '!s // The label key.',
      operator: '!s // In, NotIn, Exists, DoesNotExist, Gt or Lt.',
      values: '[s] // String values.',
    },
  },
  'core.PreferredSchedulingTerm': {
    d: 'An empty preferred scheduling term matches all objects with implicit weight 0.',
    p: {
      weight: '!i32 // Weight in the range 1-100.',
      preference: '!core.NodeSelectorTerm // A node selector term.',
    },
  },
  'core.Toleration': {
    d: 'The pod this Toleration is attached to tolerates any taint that matches the triple <key,value,effect>.',
    p: {
      key: 's // The taint key that the toleration applies to.',
      operator: 's // Exists or Equal.',
      value: 's // The taint value the toleration matches to.',
      effect: 's // NoSchedule, PreferNoSchedule or NoExecute.',
      tolerationSeconds: 'i64 // How long the pod tolerates a NoExecute taint.',
    },
  },
  'core.HostAlias': {
    d: 'HostAlias holds the mapping between IP and hostnames.',
    p: {
      ip: '!s // IP address of the host file entry.',
      hostnames: '[s] // Hostnames for the above IP address.',
    },
  },
  'core.PodDNSConfig': {
    d: 'PodDNSConfig defines the DNS parameters of a pod.',
    p: {
      nameservers: '[s] // DNS name server IP addresses.',
      searches: '[s] // DNS search domains.',
      options: '[core.PodDNSConfigOption] // DNS resolver options.',
    },
  },
  'core.PodDNSConfigOption': {
    d: 'PodDNSConfigOption defines DNS resolver options of a pod.',
    p: { name: 's // Name.', value: 's // Value.' },
  },
  'core.PodReadinessGate': {
    d: 'PodReadinessGate contains the reference to a pod condition.',
    p: { conditionType: "!s // Refers to a condition in the pod's condition list." },
  },
  'core.PodSchedulingGate': {
    d: 'PodSchedulingGate is associated to a Pod to guard its scheduling.',
    p: { name: '!s // Name of the scheduling gate.' },
  },
  'core.PodResourceClaim': {
    d: 'PodResourceClaim references exactly one ResourceClaim.',
    p: {
      name: '!s // Uniquely identifies this resource claim inside the pod.',
      resourceClaimName: 's // Name of a ResourceClaim object in the same namespace as this pod.',
      resourceClaimTemplateName:
        's // Name of a ResourceClaimTemplate object in the same namespace as this pod.',
    },
  },
  'core.PodResourceClaimStatus': {
    d: 'PodResourceClaimStatus is stored in the PodStatus for each PodResourceClaim which references a ResourceClaimTemplate.',
    p: {
      name: '!s // Uniquely identifies this resource claim inside the pod.',
      resourceClaimName: 's // Name of the ResourceClaim generated for the pod.',
    },
  },
  'core.PodOS': { d: 'PodOS defines the OS parameters of a pod.', p: { name: '!s // linux or windows.' } },
  'core.TopologySpreadConstraint': {
    d: 'TopologySpreadConstraint specifies how to spread matching pods among the given topology.',
    p: {
      maxSkew: '!i32 // Degree to which pods may be unevenly distributed.',
      topologyKey: '!s // The key of node labels.',
      whenUnsatisfiable: '!s // DoNotSchedule or ScheduleAnyway.',
      labelSelector: 'meta.LabelSelector // Finds matching pods.',
      minDomains: 'i32 // Minimum number of eligible domains.',
      matchLabelKeys: '[s]@atomic // Pod label keys to select the pods over which spreading is calculated.',
      nodeAffinityPolicy: 's // Honor or Ignore.',
      nodeTaintsPolicy: 's // Honor or Ignore.',
    },
  },
  'core.PodStatus': {
    d: 'PodStatus represents information about the status of a pod.',
    p: {
      phase: 's // Pending, Running, Succeeded, Failed or Unknown.',
      conditions: '[core.PodCondition]@merge:type // Current service state of pod.',
      message: 's // Why the pod is in this condition.',
      reason: 's // A brief CamelCase message indicating details about why the pod is in this state.',
      nominatedNodeName: 's // Set when this pod preempts other pods on the node.',
      hostIP: 's // IP address of the host to which the pod is assigned.',
      hostIPs: '[core.HostIP]@merge:ip // IP addresses allocated to the host.',
      podIP: 's // IP address allocated to the pod.',
      podIPs: '[core.PodIP]@merge:ip // IP addresses allocated to the pod.',
      resourceClaimStatuses:
        '[core.PodResourceClaimStatus]@merge,retainKeys:name // Status of resource claims.',
      startTime: 't // Time at which the object was acknowledged by the Kubelet.',
      initContainerStatuses: '[core.ContainerStatus] // Statuses of init containers.',
      containerStatuses: '[core.ContainerStatus] // Statuses of containers.',
      ephemeralContainerStatuses: '[core.ContainerStatus] // Statuses of ephemeral containers.',
      qosClass: 's // Quality of Service class.',
      extendedResourceClaimStatus: 'json // Status of the extended resource claim.',
      observedGeneration: 'i64 // The pod generation the status reflects.',
      resize: 's // Deprecated: status of a resize.',
    },
  },
  'core.PodCondition': {
    d: 'PodCondition contains details for the current condition of this pod.',
    p: {
      type: '!s // Type is the type of the condition.',
      status: '!s // True, False or Unknown.',
      lastProbeTime: 't // Last time we probed the condition.',
      lastTransitionTime: 't // Last time the condition transitioned.',
      reason: "s // Unique, one-word, CamelCase reason for the condition's last transition.",
      message: 's // Human-readable message.',
      observedGeneration: 'i64 // The pod generation the condition was set based upon.',
    },
  },
  'core.PodIP': {
    d: 'PodIP represents a single IP address allocated to the pod.',
    p: { ip: '!s // IP address.' },
  },
  'core.HostIP': {
    d: 'HostIP represents a single IP address allocated to the host.',
    p: { ip: '!s // IP address.' },
  },
  'core.ContainerStatus': {
    d: 'ContainerStatus contains details for the current status of this container.',
    p: {
      name: '!s // Name of the container.',
      state: 'core.ContainerState // Current state of the container.',
      lastState: "core.ContainerState // The container's last termination condition.",
      ready: '!b // Whether the container is currently passing its readiness check.',
      restartCount: '!i32 // Number of times the container has been restarted.',
      image: '!s // Container image.',
      imageID: '!s // Image ID of the container image.',
      containerID: "s // Container's ID in the format '<type>://<container_id>'.",
      started: 'b // Whether the container has finished its postStart hook.',
      allocatedResources: '{q} // Compute resources allocated for this container by the node.',
      allocatedResourcesStatus: '[json]@merge:name // Status of resources allocated to the container.',
      resources: 'core.ResourceRequirements // Compute resource requests and limits applied.',
      stopSignal: 's // The stop signal of the container.',
      user: 'json // User identity information initially attached to the first process.',
      volumeMounts: '[json]@merge:mountPath // Status of volume mounts.',
    },
  },
  'core.ContainerState': {
    d: 'ContainerState holds a possible state of container.',
    p: {
      waiting: 'core.ContainerStateWaiting // Details about a waiting container.',
      running: 'core.ContainerStateRunning // Details about a running container.',
      terminated: 'core.ContainerStateTerminated // Details about a terminated container.',
    },
  },
  'core.ContainerStateWaiting': {
    d: 'ContainerStateWaiting is a waiting state of a container.',
    p: { reason: 's // Why the container is not yet running.', message: 's // Details.' },
  },
  'core.ContainerStateRunning': {
    d: 'ContainerStateRunning is a running state of a container.',
    p: { startedAt: 't // Time at which the container was last (re-)started.' },
  },
  'core.ContainerStateTerminated': {
    d: 'ContainerStateTerminated is a terminated state of a container.',
    p: {
      exitCode: '!i32 // Exit status from the last termination of the container.',
      signal: 'i32 // Signal from the last termination of the container.',
      reason: 's // Reason from the last termination of the container.',
      message: 's // Message regarding the last termination of the container.',
      startedAt: 't // Time at which previous execution of the container started.',
      finishedAt: 't // Time at which the container last terminated.',
      containerID: "s // Container's ID in the format '<type>://<container_id>'.",
    },
  },
  'core.PodTemplateSpec': {
    d: 'PodTemplateSpec describes the data a pod should have when created from a template.',
    p: {
      metadata: "meta.ObjectMeta // Standard object's metadata.",
      spec: 'core.PodSpec // Specification of the desired behavior of the pod.',
    },
  },
  'core.Binding': {
    d: 'Binding ties one object to another; for example, a pod is bound to a node by a scheduler.',
    gvk: ['', 'v1', 'Binding'],
    p: {
      ...TYPE_META,
      metadata: "meta.ObjectMeta // Standard object's metadata.",
      target: '!core.ObjectReference // The target object that you want to bind to.',
    },
  },

  'core.Node': {
    d: 'Node is a worker node in Kubernetes.',
    gvk: ['', 'v1', 'Node'],
    p: OBJ(
      'core.NodeSpec // Spec defines the behavior of a node.',
      'core.NodeStatus // Most recently observed status of the node.',
    ),
  },
  'core.NodeList': LIST('core.Node', 'NodeList'),
  'core.NodeSpec': {
    d: 'NodeSpec describes the attributes that a node is created with.',
    p: {
      podCIDR: 's // The pod IP range assigned to the node.',
      podCIDRs: '[s]@merge // The IP ranges assigned to the node for usage by Pods.',
      providerID: 's // ID of the node assigned by the cloud provider.',
      unschedulable: 'b // Controls node schedulability of new pods.',
      taints: "[core.Taint] // The node's taints.",
      configSource: 'json // Deprecated.',
      externalID: 's // Deprecated.',
    },
  },
  'core.Taint': {
    d: 'The node this Taint is attached to has the "effect" on any pod that does not tolerate the Taint.',
    p: {
      key: '!s // The taint key to be applied to a node.',
      value: 's // The taint value corresponding to the taint key.',
      effect: '!s // NoSchedule, PreferNoSchedule or NoExecute.',
      timeAdded: 't // The time at which the taint was added.',
    },
  },
  'core.NodeStatus': {
    d: 'NodeStatus is information about the current status of a node.',
    p: {
      capacity: '{q} // Total resources of the node.',
      allocatable: '{q} // Resources of a node that are available for scheduling.',
      phase: 's // Deprecated.',
      conditions: '[core.NodeCondition]@merge:type // Current observed node conditions.',
      addresses: '[core.NodeAddress]@merge:type // Addresses reachable to the node.',
      daemonEndpoints: 'core.NodeDaemonEndpoints // Endpoints of daemons running on the Node.',
      nodeInfo: 'core.NodeSystemInfo // General information about the node.',
      images: '[core.ContainerImage] // Container images on this node.',
      volumesInUse: '[s] // Attachable volumes in use (mounted) by the node.',
      config: 'json // Status of the config assigned to the node.',
      features: 'json // Features implemented by the CRI.',
      runtimeHandlers: '[json]@atomic // The available runtime handlers.',
      volumesAttached: '[json] // Volumes attached to the node.',
    },
  },
  'core.NodeCondition': {
    d: 'NodeCondition contains condition information for a node.',
    p: {
      type: '!s // Type of node condition.',
      status: '!s // True, False or Unknown.',
      lastHeartbeatTime: 't // Last time we got an update on a given condition.',
      lastTransitionTime: 't // Last time the condition transit from one status to another.',
      reason: "s // (brief) reason for the condition's last transition.",
      message: 's // Human readable message indicating details about last transition.',
    },
  },
  'core.NodeAddress': {
    d: "NodeAddress contains information for the node's address.",
    p: { type: '!s // Hostname, ExternalIP or InternalIP.', address: '!s // The node address.' },
  },
  'core.NodeDaemonEndpoints': {
    d: 'NodeDaemonEndpoints lists ports opened by daemons running on the Node.',
    p: { kubeletEndpoint: 'core.DaemonEndpoint // Endpoint on which Kubelet is listening.' },
  },
  'core.DaemonEndpoint': {
    d: 'DaemonEndpoint contains information about a single Daemon endpoint.',
    p: { Port: '!i32 // Port number of the given endpoint.' },
  },
  'core.NodeSystemInfo': {
    d: 'NodeSystemInfo is a set of ids/uuids to uniquely identify the node.',
    p: {
      machineID: '!s // MachineID reported by the node.',
      systemUUID: '!s // SystemUUID reported by the node.',
      bootID: '!s // Boot ID reported by the node.',
      kernelVersion: "!s // Kernel Version reported by the node from 'uname -r'.",
      osImage: '!s // OS Image reported by the node from /etc/os-release.',
      containerRuntimeVersion: '!s // ContainerRuntime Version reported by the node.',
      kubeletVersion: '!s // Kubelet Version reported by the node.',
      kubeProxyVersion: '!s // Deprecated: KubeProxy Version reported by the node.',
      operatingSystem: '!s // The Operating System reported by the node.',
      architecture: '!s // The Architecture reported by the node.',
      swap: 'json // Swap info reported by the node.',
    },
  },
  'core.ContainerImage': {
    d: 'Describe a container image.',
    p: {
      names: '[s] // Names by which this image is known.',
      sizeBytes: 'i64 // The size of the image in bytes.',
    },
  },

  'core.Namespace': {
    d: 'Namespace provides a scope for Names.',
    gvk: ['', 'v1', 'Namespace'],
    p: OBJ(
      'core.NamespaceSpec // Spec defines the behavior of the Namespace.',
      'core.NamespaceStatus // Status describes the current status of a Namespace.',
    ),
  },
  'core.NamespaceList': LIST('core.Namespace', 'NamespaceList'),
  'core.NamespaceSpec': {
    d: 'NamespaceSpec describes the attributes on a Namespace.',
    p: {
      finalizers:
        '[s] // Finalizers is an opaque list of values that must be empty to permanently remove object from storage.',
    },
  },
  'core.NamespaceStatus': {
    d: 'NamespaceStatus is information about the current status of a Namespace.',
    p: {
      phase: 's // Active or Terminating.',
      conditions:
        "[core.NamespaceCondition]@merge:type // The latest available observations of a namespace's current state.",
    },
  },
  'core.NamespaceCondition': {
    d: 'NamespaceCondition contains details about state of namespace.',
    p: {
      type: '!s // Type of namespace controller condition.',
      status: '!s // True, False or Unknown.',
      lastTransitionTime: 't // Last transition time.',
      reason: 's // Reason.',
      message: 's // Message.',
    },
  },

  'core.ConfigMap': {
    d: 'ConfigMap holds configuration data for pods to consume.',
    gvk: ['', 'v1', 'ConfigMap'],
    p: {
      ...OBJ(),
      data: '{s} // Configuration data (UTF-8 values).',
      binaryData: '{byte} // Binary configuration data.',
      immutable: 'b // If true, the data cannot be updated.',
    },
  },
  'core.ConfigMapList': LIST('core.ConfigMap', 'ConfigMapList'),
  'core.Secret': {
    d: 'Secret holds secret data of a certain type.',
    gvk: ['', 'v1', 'Secret'],
    p: {
      ...OBJ(),
      data: '{byte} // Secret data, base64 encoded.',
      stringData: '{s} // Write-only convenience field merged into data.',
      type: 's // Used to facilitate programmatic handling of secret data.',
      immutable: 'b // If true, the data cannot be updated.',
    },
  },
  'core.SecretList': LIST('core.Secret', 'SecretList'),

  'core.Service': {
    d: 'Service is a named abstraction of software service consisting of local port that the proxy listens on, and the selector that determines which pods will answer requests.',
    gvk: ['', 'v1', 'Service'],
    p: OBJ(
      'core.ServiceSpec // Spec defines the behavior of a service.',
      'core.ServiceStatus // Most recently observed status of the service.',
    ),
  },
  'core.ServiceList': LIST('core.Service', 'ServiceList'),
  'core.ServiceSpec': {
    d: 'ServiceSpec describes the attributes that a user creates on a service.',
    p: {
      ports: '[core.ServicePort]@merge:port // The list of ports that are exposed by this service.',
      selector: '{s} // Route service traffic to pods with labels matching this selector.',
      clusterIP: 's // The IP address of the service.',
      clusterIPs: '[s] // IP addresses assigned to this service.',
      type: 's // ExternalName, ClusterIP, NodePort or LoadBalancer.',
      externalIPs: '[s] // IPs for which nodes accept traffic for this service.',
      sessionAffinity: 's // ClientIP or None.',
      loadBalancerIP: 's // Deprecated.',
      loadBalancerSourceRanges: '[s] // Client IPs allowed to reach the load balancer.',
      externalName: 's // The external reference that discovery mechanisms return as an alias.',
      externalTrafficPolicy: 's // Cluster or Local.',
      healthCheckNodePort: 'i32 // Health check node port.',
      publishNotReadyAddresses: 'b // Publish endpoints of not-ready pods.',
      ipFamilies: '[s] // IP families assigned to this service.',
      ipFamilyPolicy: 's // SingleStack, PreferDualStack or RequireDualStack.',
      allocateLoadBalancerNodePorts: 'b // Allocate node ports for LoadBalancer services.',
      loadBalancerClass: 's // The class of the load balancer implementation.',
      internalTrafficPolicy: 's // Cluster or Local.',
      sessionAffinityConfig: 'json // Configurations of session affinity.',
      trafficDistribution: 's // How traffic is distributed to Service endpoints.',
    },
  },
  'core.ServicePort': {
    d: "ServicePort contains information on service's port.",
    p: {
      name: 's // The name of this port within the service.',
      protocol: 's // TCP, UDP or SCTP.',
      appProtocol: 's // The application protocol for this port.',
      port: '!i32 // The port that will be exposed by this service.',
      targetPort: 'ios // Number or name of the port to access on the pods.',
      nodePort: 'i32 // The port on each node on which this service is exposed.',
    },
  },
  'core.ServiceStatus': {
    d: 'ServiceStatus represents the current status of a service.',
    p: {
      loadBalancer: 'core.LoadBalancerStatus // The current status of the load-balancer.',
      conditions: '[meta.Condition]@merge:type // The current state of the service.',
    },
  },
  'core.LoadBalancerStatus': {
    d: 'LoadBalancerStatus represents the status of a load-balancer.',
    p: { ingress: '[core.LoadBalancerIngress] // Ingress points for the load-balancer.' },
  },
  'core.LoadBalancerIngress': {
    d: 'LoadBalancerIngress represents the status of a load-balancer ingress point.',
    p: {
      ip: 's // IP-based load-balancer ingress point.',
      hostname: 's // DNS-based load-balancer ingress point.',
      ipMode: 's // VIP or Proxy.',
      ports: '[json]@atomic // Records of service ports.',
    },
  },

  'core.Endpoints': {
    d: 'Endpoints is a collection of endpoints that implement the actual service.',
    gvk: ['', 'v1', 'Endpoints'],
    p: {
      ...OBJ(),
      subsets: '[core.EndpointSubset] // The set of all endpoints is the union of all subsets.',
    },
  },
  'core.EndpointsList': LIST('core.Endpoints', 'EndpointsList'),
  'core.EndpointSubset': {
    d: 'EndpointSubset is a group of addresses with a common set of ports.',
    p: {
      addresses: '[core.EndpointAddress] // IP addresses which offer the related ports and are ready.',
      notReadyAddresses:
        '[core.EndpointAddress] // IP addresses which offer the related ports but are not ready.',
      ports: '[core.EndpointPort] // Port numbers available on the related IP addresses.',
    },
  },
  'core.EndpointAddress': {
    d: 'EndpointAddress is a tuple that describes single IP address.',
    p: {
      ip: '!s // The IP of this endpoint.',
      hostname: 's // The Hostname of this endpoint.',
      nodeName: 's // Node hosting this endpoint.',
      targetRef: 'core.ObjectReference // Reference to object providing the endpoint.',
    },
  },
  'core.EndpointPort': {
    d: 'EndpointPort is a tuple that describes a single port.',
    p: {
      name: 's // The name of this port.',
      port: '!i32 // The port number of the endpoint.',
      protocol: 's // TCP, UDP or SCTP.',
      appProtocol: 's // The application protocol for this port.',
    },
  },

  'core.Event': {
    d: 'Event is a report of an event somewhere in the cluster.',
    gvk: ['', 'v1', 'Event'],
    p: {
      ...OBJ(),
      metadata: "!meta.ObjectMeta // Standard object's metadata.",
      involvedObject: '!core.ObjectReference // The object that this event is about.',
      reason:
        "s // Short, machine understandable reason for the transition into the object's current status.",
      message: 's // A human-readable description of the status of this operation.',
      source: 'core.EventSource // The component reporting this event.',
      firstTimestamp: 't // The time at which the event was first recorded.',
      lastTimestamp: 't // The time at which the most recent occurrence of this event was recorded.',
      count: 'i32 // The number of times this event has occurred.',
      type: 's // Normal or Warning.',
      eventTime: 'mt // Time when this Event was first observed.',
      series: 'core.EventSeries // Data about the Event series this event represents.',
      action: 's // What action was taken/failed regarding to the Regarding object.',
      related: 'core.ObjectReference // Optional secondary object for more complex actions.',
      reportingComponent: 's // Name of the controller that emitted this Event.',
      reportingInstance: 's // ID of the controller instance.',
    },
  },
  'core.EventList': LIST('core.Event', 'EventList'),
  'core.EventSource': {
    d: 'EventSource contains information for an event.',
    p: {
      component: 's // Component from which the event is generated.',
      host: 's // Node name on which the event is generated.',
    },
  },
  'core.EventSeries': {
    d: 'EventSeries contain information on series of events.',
    p: {
      count: 'i32 // Number of occurrences in this series up to the last heartbeat time.',
      lastObservedTime: 'mt // Time of the last occurrence observed.',
    },
  },

  'core.ServiceAccount': {
    d: 'ServiceAccount binds together a name, a principal that can be authenticated, and a set of secrets.',
    gvk: ['', 'v1', 'ServiceAccount'],
    p: {
      ...OBJ(),
      secrets: '[core.ObjectReference]@merge:name // Secrets pods running with this ServiceAccount may use.',
      imagePullSecrets: '[core.LocalObjectReference] // Secrets used to pull container images.',
      automountServiceAccountToken: 'b // Whether pods get an API token mounted automatically.',
    },
  },
  'core.ServiceAccountList': LIST('core.ServiceAccount', 'ServiceAccountList'),

  // ------------------------------------------------------------------ apps/v1
  'apps.Deployment': {
    d: 'Deployment enables declarative updates for Pods and ReplicaSets.',
    gvk: ['apps', 'v1', 'Deployment'],
    p: OBJ(
      'apps.DeploymentSpec // Specification of the desired behavior of the Deployment.',
      'apps.DeploymentStatus // Most recently observed status of the Deployment.',
    ),
  },
  'apps.DeploymentList': LIST('apps.Deployment', 'DeploymentList'),
  'apps.DeploymentSpec': {
    d: 'DeploymentSpec is the specification of the desired behavior of the Deployment.',
    p: {
      replicas: 'i32 // Number of desired pods.',
      selector: '!meta.LabelSelector // Label selector for pods.',
      template: '!core.PodTemplateSpec // Template describes the pods that will be created.',
      strategy:
        'apps.DeploymentStrategy@retainKeys // The deployment strategy to use to replace existing pods with new ones.',
      minReadySeconds: 'i32 // Minimum seconds a new pod must be ready to be available.',
      revisionHistoryLimit: 'i32 // Number of old ReplicaSets to retain to allow rollback.',
      paused: 'b // Indicates that the deployment is paused.',
      progressDeadlineSeconds: 'i32 // Maximum time in seconds for a deployment to make progress.',
    },
  },
  'apps.DeploymentStrategy': {
    d: 'DeploymentStrategy describes how to replace existing pods with new ones.',
    p: {
      type: 's // Recreate or RollingUpdate.',
      rollingUpdate: 'apps.RollingUpdateDeployment // Rolling update config params.',
    },
  },
  'apps.RollingUpdateDeployment': {
    d: 'Spec to control the desired behavior of rolling update.',
    p: {
      maxUnavailable: 'ios // Maximum number of pods that can be unavailable during the update.',
      maxSurge: 'ios // Maximum number of pods that can be scheduled above the desired number.',
    },
  },
  'apps.DeploymentStatus': {
    d: 'DeploymentStatus is the most recently observed status of the Deployment.',
    p: {
      observedGeneration: 'i64 // The generation observed by the deployment controller.',
      replicas: 'i32 // Total number of non-terminated pods targeted by this deployment.',
      updatedReplicas: 'i32 // Pods that have the desired template spec.',
      readyReplicas: 'i32 // Pods with a Ready condition.',
      availableReplicas: 'i32 // Pods available for at least minReadySeconds.',
      unavailableReplicas: 'i32 // Pods still required for the deployment to have 100% available capacity.',
      terminatingReplicas: 'i32 // Terminating pods targeted by this deployment.',
      conditions:
        "[apps.DeploymentCondition]@merge:type // The latest available observations of a deployment's current state.",
      collisionCount: 'i32 // Count of hash collisions for the Deployment.',
    },
  },
  'apps.DeploymentCondition': {
    d: 'DeploymentCondition describes the state of a deployment at a certain point.',
    p: {
      type: '!s // Type of deployment condition.',
      status: '!s // True, False or Unknown.',
      lastUpdateTime: 't // The last time this condition was updated.',
      lastTransitionTime: 't // Last time the condition transitioned.',
      reason: "s // The reason for the condition's last transition.",
      message: 's // A human readable message.',
    },
  },
  'apps.ReplicaSet': {
    d: 'ReplicaSet ensures that a specified number of pod replicas are running at any given time.',
    gvk: ['apps', 'v1', 'ReplicaSet'],
    p: OBJ(
      'apps.ReplicaSetSpec // Spec defines the specification of the desired behavior of the ReplicaSet.',
      'apps.ReplicaSetStatus // The most recently observed status of the ReplicaSet.',
    ),
  },
  'apps.ReplicaSetList': LIST('apps.ReplicaSet', 'ReplicaSetList'),
  'apps.ReplicaSetSpec': {
    d: 'ReplicaSetSpec is the specification of a ReplicaSet.',
    p: {
      replicas: 'i32 // Number of desired pods.',
      minReadySeconds: 'i32 // Minimum seconds a new pod must be ready to be available.',
      selector: '!meta.LabelSelector // Label query over pods that should match the replica count.',
      template: 'core.PodTemplateSpec // Template is the object that describes the pod that will be created.',
    },
  },
  'apps.ReplicaSetStatus': {
    d: 'ReplicaSetStatus represents the current status of a ReplicaSet.',
    p: {
      replicas: '!i32 // The most recently observed number of non-terminating pods.',
      fullyLabeledReplicas: 'i32 // Pods whose labels match the labels of the pod template.',
      readyReplicas: 'i32 // Pods with a Ready condition.',
      availableReplicas: 'i32 // Pods available for at least minReadySeconds.',
      terminatingReplicas: 'i32 // Terminating pods.',
      observedGeneration: 'i64 // The most recent generation observed.',
      conditions:
        "[apps.ReplicaSetCondition]@merge:type // The latest available observations of a replica set's current state.",
    },
  },
  'apps.ReplicaSetCondition': {
    d: 'ReplicaSetCondition describes the state of a replica set at a certain point.',
    p: {
      type: '!s // Type of replica set condition.',
      status: '!s // True, False or Unknown.',
      lastTransitionTime: 't // Last transition time.',
      reason: 's // Reason.',
      message: 's // Message.',
    },
  },
  'apps.DaemonSet': {
    d: 'DaemonSet represents the configuration of a daemon set.',
    gvk: ['apps', 'v1', 'DaemonSet'],
    p: OBJ(
      'apps.DaemonSetSpec // The desired behavior of this daemon set.',
      'apps.DaemonSetStatus // The current status of this daemon set.',
    ),
  },
  'apps.DaemonSetList': LIST('apps.DaemonSet', 'DaemonSetList'),
  'apps.DaemonSetSpec': {
    d: 'DaemonSetSpec is the specification of a daemon set.',
    p: {
      selector: '!meta.LabelSelector // A label query over pods that are managed by the daemon set.',
      template: '!core.PodTemplateSpec // An object that describes the pod that will be created.',
      updateStrategy:
        'apps.DaemonSetUpdateStrategy // An update strategy to replace existing DaemonSet pods with new pods.',
      minReadySeconds: 'i32 // Minimum seconds a new pod must be ready to be available.',
      revisionHistoryLimit: 'i32 // Number of old history to retain to allow rollback.',
    },
  },
  'apps.DaemonSetUpdateStrategy': {
    d: 'DaemonSetUpdateStrategy is a struct used to control the update strategy for a DaemonSet.',
    p: {
      type: 's // RollingUpdate or OnDelete.',
      rollingUpdate: 'apps.RollingUpdateDaemonSet // Rolling update config params.',
    },
  },
  'apps.RollingUpdateDaemonSet': {
    d: 'Spec to control the desired behavior of daemon set rolling update.',
    p: {
      maxUnavailable: 'ios // Maximum number of DaemonSet pods that can be unavailable during the update.',
      maxSurge: 'ios // Maximum number of nodes with an updated pod that can run during an update.',
    },
  },
  'apps.DaemonSetStatus': {
    d: 'DaemonSetStatus represents the current status of a daemon set.',
    p: {
      currentNumberScheduled: '!i32 // Nodes running at least 1 daemon pod and supposed to.',
      numberMisscheduled: '!i32 // Nodes running the daemon pod but not supposed to.',
      desiredNumberScheduled: '!i32 // Nodes that should be running the daemon pod.',
      numberReady: '!i32 // Nodes running a ready daemon pod.',
      observedGeneration: 'i64 // The most recent generation observed.',
      updatedNumberScheduled: 'i32 // Nodes running an updated daemon pod.',
      numberAvailable: 'i32 // Nodes running an available daemon pod.',
      numberUnavailable: 'i32 // Nodes that should run the daemon pod but have none available.',
      collisionCount: 'i32 // Count of hash collisions for the DaemonSet.',
      conditions:
        "[apps.DaemonSetCondition]@merge:type // The latest available observations of a DaemonSet's current state.",
    },
  },
  'apps.DaemonSetCondition': {
    d: 'DaemonSetCondition describes the state of a DaemonSet at a certain point.',
    p: {
      type: '!s // Type of DaemonSet condition.',
      status: '!s // True, False or Unknown.',
      lastTransitionTime: 't // Last transition time.',
      reason: 's // Reason.',
      message: 's // Message.',
    },
  },

  // ------------------------------------------------------------------ coordination/v1
  'coord.Lease': {
    d: 'Lease defines a lease concept.',
    gvk: ['coordination.k8s.io', 'v1', 'Lease'],
    p: OBJ('coord.LeaseSpec // Specification of the Lease.'),
  },
  'coord.LeaseList': LIST('coord.Lease', 'LeaseList'),
  'coord.LeaseSpec': {
    d: 'LeaseSpec is a specification of a Lease.',
    p: {
      holderIdentity: 's // Identity of the holder of a current lease.',
      leaseDurationSeconds: 'i32 // Duration that candidates for a lease need to wait to force acquire it.',
      acquireTime: 'mt // Time at which the current lease was acquired.',
      renewTime: 'mt // Time at which the current holder of the lease last updated the lease.',
      leaseTransitions: 'i32 // Number of transitions of a lease between holders.',
      strategy: 's // Strategy for picking the leader for coordinated leader election.',
      preferredHolder: 's // Signals to a lease holder that the lease has a more optimal holder.',
    },
  },

  // ------------------------------------------------------------------ events.k8s.io/v1
  'events.Event': {
    d: 'Event is a report of an event somewhere in the cluster.',
    gvk: ['events.k8s.io', 'v1', 'Event'],
    p: {
      ...OBJ(),
      eventTime: '!mt // The time when this Event was first observed.',
      series: 'events.EventSeries // Data about the Event series this event represents.',
      reportingController: 's // Name of the controller that emitted this Event.',
      reportingInstance: 's // ID of the controller instance.',
      action: 's // What action was taken/failed regarding to the regarding object.',
      reason: 's // Why the action was taken.',
      regarding: 'core.ObjectReference // The object this Event is about.',
      related: 'core.ObjectReference // Optional secondary object for more complex actions.',
      note: 's // A human-readable description of the status of this operation.',
      type: 's // Normal or Warning.',
      deprecatedSource:
        'core.EventSource // Deprecated field assuring backward compatibility with core.v1 Event type.',
      deprecatedFirstTimestamp:
        't // Deprecated field assuring backward compatibility with core.v1 Event type.',
      deprecatedLastTimestamp:
        't // Deprecated field assuring backward compatibility with core.v1 Event type.',
      deprecatedCount: 'i32 // Deprecated field assuring backward compatibility with core.v1 Event type.',
    },
  },
  'events.EventList': LIST('events.Event', 'EventList'),
  'events.EventSeries': {
    d: 'EventSeries contain information on series of events.',
    p: {
      count: '!i32 // Number of occurrences in this series up to the last heartbeat time.',
      lastObservedTime: '!mt // Time when last Event from the series was seen.',
    },
  },

  // ------------------------------------------------------------------ autoscaling/v1, policy/v1
  'autoscaling.Scale': {
    d: 'Scale represents a scaling request for a resource.',
    gvk: ['autoscaling', 'v1', 'Scale'],
    p: OBJ(
      'autoscaling.ScaleSpec // Desired behavior of the scale.',
      'autoscaling.ScaleStatus // Current status of the scale.',
    ),
  },
  'autoscaling.ScaleSpec': {
    d: 'ScaleSpec describes the attributes of a scale subresource.',
    p: { replicas: 'i32 // Desired number of instances for the scaled object.' },
  },
  'autoscaling.ScaleStatus': {
    d: 'ScaleStatus represents the current status of a scale subresource.',
    p: {
      replicas: '!i32 // Actual number of observed instances of the scaled object.',
      selector: 's // Label query over pods that should match the replicas count.',
    },
  },
  'policy.Eviction': {
    d: 'Eviction evicts a pod from its node subject to certain policies and safety constraints.',
    gvk: ['policy', 'v1', 'Eviction'],
    p: { ...OBJ(), deleteOptions: 'meta.DeleteOptions // DeleteOptions may be provided.' },
  },

  // ------------------------------------------------------------------ apiextensions.k8s.io/v1
  'apiext.CustomResourceDefinition': {
    d: 'CustomResourceDefinition represents a resource that should be exposed on the API server.',
    gvk: ['apiextensions.k8s.io', 'v1', 'CustomResourceDefinition'],
    p: OBJ(
      '!apiext.CustomResourceDefinitionSpec // Spec describes how the user wants the resources to appear.',
      'apiext.CustomResourceDefinitionStatus // Status indicates the actual state of the CustomResourceDefinition.',
    ),
  },
  'apiext.CustomResourceDefinitionList': LIST(
    'apiext.CustomResourceDefinition',
    'CustomResourceDefinitionList',
  ),
  'apiext.CustomResourceDefinitionSpec': {
    d: 'CustomResourceDefinitionSpec describes how a user wants their resource to appear.',
    p: {
      group: '!s // The API group of the defined custom resource.',
      names: '!apiext.CustomResourceDefinitionNames // The resource and kind names for the custom resource.',
      scope: '!s // Cluster or Namespaced.',
      versions:
        '![apiext.CustomResourceDefinitionVersion] // The API versions of the defined custom resource.',
      conversion: 'apiext.CustomResourceConversion // Conversion settings for the CRD.',
      preserveUnknownFields: 'b // Deprecated.',
    },
  },
  'apiext.CustomResourceDefinitionNames': {
    d: 'CustomResourceDefinitionNames indicates the names to serve this CustomResourceDefinition.',
    p: {
      plural: '!s // The plural name of the resource to serve.',
      singular: 's // The singular name of the resource.',
      shortNames: '[s] // Short names for the resource.',
      kind: '!s // The serialized kind of the resource.',
      listKind: 's // The serialized kind of the list for this resource.',
      categories: '[s] // Grouped resources this custom resource belongs to.',
    },
  },
  'apiext.CustomResourceDefinitionVersion': {
    d: 'CustomResourceDefinitionVersion describes a version for CRD.',
    p: {
      name: '!s // The version name.',
      served: '!b // Whether this version is served via REST APIs.',
      storage: '!b // Whether this version is used when persisting custom resources.',
      deprecated: 'b // Whether this version of the custom resource API is deprecated.',
      deprecationWarning: 's // Overrides the default warning returned to API clients.',
      schema: 'apiext.CustomResourceValidation // The schema used for validation, pruning, and defaulting.',
      subresources: 'apiext.CustomResourceSubresources // The subresources this version may have.',
      additionalPrinterColumns:
        '[apiext.CustomResourceColumnDefinition]@atomic // Additional columns returned in Table output.',
      selectableFields:
        '[apiext.SelectableField]@atomic // Paths to fields that may be used as field selectors.',
    },
  },
  'apiext.SelectableField': {
    d: 'SelectableField specifies the JSON path of a field that may be used with field selectors.',
    p: { jsonPath: '!s // A simple JSON path.' },
  },
  'apiext.CustomResourceValidation': {
    d: 'CustomResourceValidation is a list of validation methods for CustomResources.',
    p: {
      openAPIV3Schema: 'apiext.JSONSchemaProps // The OpenAPI v3 schema to use for validation and pruning.',
    },
  },
  'apiext.CustomResourceSubresources': {
    d: 'CustomResourceSubresources defines the status and scale subresources for CustomResources.',
    p: {
      status: 'apiext.CustomResourceSubresourceStatus // Enables the status subresource.',
      scale: 'apiext.CustomResourceSubresourceScale // Enables the scale subresource.',
    },
  },
  'apiext.CustomResourceSubresourceStatus': {
    d: 'CustomResourceSubresourceStatus defines how to serve the status subresource for CustomResources.',
    p: {},
  },
  'apiext.CustomResourceSubresourceScale': {
    d: 'CustomResourceSubresourceScale defines how to serve the scale subresource for CustomResources.',
    p: {
      specReplicasPath:
        '!s // JSON path inside of a custom resource that corresponds to Scale spec.replicas.',
      statusReplicasPath:
        '!s // JSON path inside of a custom resource that corresponds to Scale status.replicas.',
      labelSelectorPath:
        's // JSON path inside of a custom resource that corresponds to Scale status.selector.',
    },
  },
  'apiext.CustomResourceColumnDefinition': {
    d: 'CustomResourceColumnDefinition specifies a column for server side printing.',
    p: {
      name: '!s // A human readable name for the column.',
      type: '!s // An OpenAPI type definition for this column.',
      format: 's // An optional OpenAPI type definition for this column.',
      description: 's // A human readable description of this column.',
      priority: 'i32 // An integer defining the relative importance of this column.',
      jsonPath: '!s // A simple JSON path evaluated against each custom resource.',
    },
  },
  'apiext.CustomResourceConversion': {
    d: 'CustomResourceConversion describes how to convert different versions of a CR.',
    p: { strategy: '!s // None or Webhook.', webhook: 'json // How to call the conversion webhook.' },
  },
  'apiext.CustomResourceDefinitionStatus': {
    d: 'CustomResourceDefinitionStatus indicates the state of the CustomResourceDefinition.',
    p: {
      conditions:
        '[apiext.CustomResourceDefinitionCondition]@map:type // Conditions indicate state for particular aspects of a CustomResourceDefinition.',
      acceptedNames:
        'apiext.CustomResourceDefinitionNames // The names that are actually being used to serve discovery.',
      storedVersions: '[s] // All versions of this custom resource that were ever persisted.',
    },
  },
  'apiext.CustomResourceDefinitionCondition': {
    d: 'CustomResourceDefinitionCondition contains details for the current condition of this pod.',
    p: {
      type: '!s // Type is the type of the condition.',
      status: '!s // True, False or Unknown.',
      lastTransitionTime: 't // Last transition time.',
      reason: 's // Reason.',
      message: 's // Message.',
    },
  },
  'apiext.JSONSchemaProps': {
    d: 'JSONSchemaProps is a JSON-Schema following Specification Draft 4 (http://json-schema.org/).',
    p: {
      id: 's // Id.',
      $schema: 's // Schema.',
      $ref: 's // Reference.',
      description: 's // Description.',
      type: 's // Type.',
      format: 's // Format.',
      title: 's // Title.',
      default: 'json // Default value.',
      maximum: 'f // Maximum.',
      exclusiveMaximum: 'b // Exclusive maximum.',
      minimum: 'f // Minimum.',
      exclusiveMinimum: 'b // Exclusive minimum.',
      maxLength: 'i64 // Maximum length.',
      minLength: 'i64 // Minimum length.',
      pattern: 's // Pattern.',
      maxItems: 'i64 // Maximum items.',
      minItems: 'i64 // Minimum items.',
      uniqueItems: 'b // Unique items.',
      multipleOf: 'f // Multiple of.',
      enum: '[json] // Enumerated values.',
      maxProperties: 'i64 // Maximum properties.',
      minProperties: 'i64 // Minimum properties.',
      required: '[s] // Required properties.',
      items: 'json // JSONSchemaPropsOrArray.',
      allOf: '[apiext.JSONSchemaProps] // All of.',
      oneOf: '[apiext.JSONSchemaProps] // One of.',
      anyOf: '[apiext.JSONSchemaProps] // Any of.',
      not: 'apiext.JSONSchemaProps // Not.',
      properties: '{apiext.JSONSchemaProps} // Properties.',
      additionalProperties: 'json // JSONSchemaPropsOrBool.',
      patternProperties: '{apiext.JSONSchemaProps} // Pattern properties.',
      dependencies: '{json} // Dependencies.',
      additionalItems: 'json // JSONSchemaPropsOrBool.',
      definitions: '{apiext.JSONSchemaProps} // Definitions.',
      externalDocs: 'json // External documentation.',
      example: 'json // Example.',
      nullable: 'b // Nullable.',
      'x-kubernetes-preserve-unknown-fields': 'b // Stop the pruning of unspecified fields.',
      'x-kubernetes-embedded-resource': 'b // The value is an embedded Kubernetes runtime.Object.',
      'x-kubernetes-int-or-string': 'b // Accepts integers and strings.',
      'x-kubernetes-list-map-keys': '[s] // Keys of a map-type list.',
      'x-kubernetes-list-type': 's // atomic, set or map.',
      'x-kubernetes-map-type': 's // granular or atomic.',
      'x-kubernetes-validations': '[json]@merge:rule // CEL validation rules.',
    },
  },
};

/** Full upstream definition names of our short prefixes. */
export const PREFIXES: Readonly<Record<string, string>> = {
  meta: 'io.k8s.apimachinery.pkg.apis.meta.v1',
  core: 'io.k8s.api.core.v1',
  apps: 'io.k8s.api.apps.v1',
  coord: 'io.k8s.api.coordination.v1',
  events: 'io.k8s.api.events.v1',
  autoscaling: 'io.k8s.api.autoscaling.v1',
  policy: 'io.k8s.api.policy.v1',
  apiext: 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1',
};
