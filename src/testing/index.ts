export {
  describeStoreContract,
  type OptionalStoreCapability,
  type StoreContractOptions,
  type StoreContractTestFunctions,
  type StoreUnderTest,
} from './store-contract.js';
