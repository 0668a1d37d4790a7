import { describeWorkflowProperty } from 'test/support/workflow-property';

// Many fresh random walks: each run explores new sequences (a failure prints its seed).
describeWorkflowProperty('workflow invariants under random acts (property, 40 random walks)', 40);
